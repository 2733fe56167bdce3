// Which kit options people may train on and deploy to. One rule for the training wizard and
// deploy: the kit is active, Salesforce marks the kit's link to the option selectable, and the
// option itself is selectable (not a check such as "proper lighting") and active.

export interface KitOptionFlags {
  kitActive: boolean;
  linkSelectable: boolean;
  optionSelectable: boolean;
  optionActive: boolean;
}

export function isSelectableKitOption(f: KitOptionFlags): boolean {
  return f.kitActive && f.linkSelectable && f.optionSelectable && f.optionActive;
}

// The initial load of AI options (from the seeds) and a demo set of kits, including the
// seeds' merge case: PR urine / PR urine kit / PR DNA urine (4567, 589, 678) share options.

export interface SeedOption {
  name: string;
  labelName: string | null;
  selectable: boolean;
  description: string;
  exampleImageUrl: string | null;
}

export const aiOptions: SeedOption[] = [
  { name: 'red_light', labelName: 'red_light', selectable: true, description: 'Red indicator light is lit', exampleImageUrl: null },
  { name: 'green_light', labelName: 'green_light', selectable: true, description: 'Green indicator light is lit', exampleImageUrl: null },
  { name: 'yellow_light', labelName: null, selectable: true, description: 'Yellow indicator light is lit', exampleImageUrl: null },
  { name: 'stop_sign', labelName: 'stop_sign', selectable: true, description: 'Octagonal stop sign', exampleImageUrl: null },
  { name: 'speed_limit', labelName: null, selectable: true, description: 'Speed limit sign', exampleImageUrl: null },
  { name: 'no_entry', labelName: null, selectable: true, description: 'No entry sign', exampleImageUrl: null },
  { name: 'yield', labelName: null, selectable: true, description: 'Yield (give way) triangle', exampleImageUrl: null },
  { name: 'pedestrian_crossing', labelName: null, selectable: true, description: 'Pedestrian crossing sign', exampleImageUrl: null },
  { name: 'proper_lighting', labelName: null, selectable: false, description: 'Image quality check: the photo is properly lit (not trainable)', exampleImageUrl: null },
];

export interface SeedKit {
  kitId: string;
  kitName: string;
  options: string[];
}

const urineOptions = ['red_light', 'green_light', 'yellow_light', 'proper_lighting'];

export const demoKits: SeedKit[] = [
  { kitId: '4567', kitName: 'PR urine', options: urineOptions },
  { kitId: '589', kitName: 'PR urine kit', options: urineOptions },
  { kitId: '678', kitName: 'PR DNA urine', options: urineOptions },
  { kitId: '1001', kitName: 'PR demo intercept', options: ['red_light', 'green_light', 'proper_lighting'] },
  { kitId: '2001', kitName: 'Road sign panel', options: ['stop_sign', 'speed_limit', 'no_entry', 'yield', 'pedestrian_crossing'] },
  { kitId: '3001', kitName: 'Lighting check only', options: ['proper_lighting'] },
];

// Idempotent initial load: existing rows are left as they are (label names people mapped
// stay), so running the seed twice changes nothing. Kits belong to Salesforce: the demo kits
// are loaded only when asked for (the demo, `assay seed --demo-kits`), never into a real team's
// catalog by default.
import type { EntityManager } from 'typeorm';
import { aiOptions, demoKits, type SeedKit, type SeedOption } from '../../seeds/data.js';
import { writeAudit, type Actor } from './audit.js';
import { returnedRows } from '../db/returned-rows.js';

export interface SeedResult {
  optionsAdded: number;
  kitsAdded: number;
  linksAdded: number;
}

const inserted = (result: unknown): number => returnedRows(result).length;

export interface SeedOptions {
  /** Also load the demo kits ("PR urine", "Road sign panel" …) and their option links. */
  demoKits?: boolean;
  options?: SeedOption[];
  kits?: SeedKit[];
}

export async function seedCatalog(manager: EntityManager, actor: Actor, seed: SeedOptions = {}): Promise<SeedResult> {
  const options = seed.options ?? aiOptions;
  const kits = seed.kits ?? (seed.demoKits ? demoKits : []);
  return manager.transaction(async (tx) => {
    let optionsAdded = 0;
    for (const o of options) {
      optionsAdded += inserted(
        await tx.query(
          `INSERT INTO ai_options (name, label_name, selectable, description, example_image_url)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING RETURNING uid`,
          [o.name, o.labelName, o.selectable, o.description, o.exampleImageUrl],
        ),
      );
    }
    let kitsAdded = 0;
    let linksAdded = 0;
    for (const k of kits) {
      kitsAdded += inserted(
        await tx.query(`INSERT INTO test_types (kit_id, kit_name) VALUES ($1, $2) ON CONFLICT (kit_id) DO NOTHING RETURNING id`, [k.kitId, k.kitName]),
      );
      linksAdded += inserted(
        await tx.query(
          `INSERT INTO test_type_ai_options (test_type_id, ai_option_uid)
           SELECT t.id, o.uid FROM test_types t, ai_options o WHERE t.kit_id = $1 AND o.name = ANY($2::text[])
           ON CONFLICT (test_type_id, ai_option_uid) DO NOTHING RETURNING uid`,
          [k.kitId, k.options],
        ),
      );
    }
    const result = { optionsAdded, kitsAdded, linksAdded };
    if (optionsAdded + kitsAdded + linksAdded > 0) await writeAudit(tx, actor, { action: 'catalog.seeded', details: { ...result } });
    return result;
  });
}

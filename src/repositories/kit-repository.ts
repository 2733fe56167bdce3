// Kits (test_types) and their option links (test_type_ai_options), as people browse them.
import type { EntityManager } from 'typeorm';
import { TestType } from '../db/entities/index.js';
import { isUuid } from '../domain/ids.js';

export interface KitRow {
  id: string;
  kitId: string;
  kitName: string;
  selectableOptions: number;
}

/** One link of a kit to an option, with every flag the selectable rule (domain/catalog.ts) reads. */
export interface KitOptionLinkRow {
  uid: string;
  name: string;
  label_name: string | null;
  example_image_url: string | null;
  description: string | null;
  kit_id: string;
  kit_name: string;
  kit_business_id: string;
  kit_status: string;
  link_selectable: boolean;
  option_selectable: boolean;
  option_active: boolean;
}

export class KitRepository {
  constructor(private readonly db: EntityManager) {}

  /**
   * Active kits that have at least one selectable option (the SQL form of isSelectableKitOption,
   * so the list can be counted and paged), filtered by a case-insensitive substring of name or id.
   */
  async withSelectableOptions(search: string | null, limit: number): Promise<{ kits: KitRow[]; total: number }> {
    const params: unknown[] = [];
    let filter = '';
    if (search) {
      params.push(`%${search.toLowerCase().replace(/[%_\\]/g, (c) => '\\' + c)}%`);
      filter = `AND (lower(t.kit_name) LIKE $1 OR lower(t.kit_id) LIKE $1)`;
    }
    const rows: { id: string; kit_id: string; kit_name: string; n: string; total: string }[] = await this.db.query(
      `SELECT t.id, t.kit_id, t.kit_name, count(*) AS n, count(*) OVER () AS total
         FROM test_types t
         JOIN test_type_ai_options l ON l.test_type_id = t.id AND l.selectable
         JOIN ai_options o ON o.uid = l.ai_option_uid AND o.selectable AND o.active
        WHERE t.status = 'active' ${filter}
        GROUP BY t.id
        ORDER BY lower(t.kit_name), t.kit_id
        LIMIT ${Math.max(1, Math.min(limit, 1000))}`,
      params,
    );
    return {
      kits: rows.map((r) => ({ id: r.id, kitId: r.kit_id, kitName: r.kit_name, selectableOptions: Number(r.n) })),
      total: rows.length ? Number(rows[0]!.total) : 0,
    };
  }

  /** Every option link of the given kits, options by name then kits by name. */
  async optionLinks(kitIds: readonly string[]): Promise<KitOptionLinkRow[]> {
    if (kitIds.length === 0) return [];
    return this.db.query(
      `SELECT o.uid, o.name, o.label_name, o.example_image_url, o.description, t.id AS kit_id, t.kit_name, t.kit_id AS kit_business_id,
              t.status AS kit_status, l.selectable AS link_selectable, o.selectable AS option_selectable, o.active AS option_active
         FROM test_types t
         JOIN test_type_ai_options l ON l.test_type_id = t.id
         JOIN ai_options o ON o.uid = l.ai_option_uid
        WHERE t.id = ANY($1::uuid[])
        ORDER BY o.name, t.kit_name`,
      [[...new Set(kitIds)]],
    );
  }

  /** By uuid or business kit id (a uuid is tried as both; anything else never reaches a uuid column). */
  findByIdOrKitId(idOrKitId: string): Promise<TestType | null> {
    const uuid = isUuid(idOrKitId);
    return this.db.findOne(TestType, { where: uuid ? [{ id: idOrKitId }, { kitId: idOrKitId }] : { kitId: idOrKitId } });
  }
}

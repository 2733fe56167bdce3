// AI options (ai_options): the objects a kit's photo is read for.
import type { EntityManager } from 'typeorm';
import { AiOption } from '../db/entities/index.js';

export class AiOptionRepository {
  constructor(private readonly db: EntityManager) {}

  findByUid(uid: string): Promise<AiOption | null> {
    return this.db.findOne(AiOption, { where: { uid } });
  }

  findByLabelName(labelName: string): Promise<AiOption | null> {
    return this.db.findOne(AiOption, { where: { labelName } });
  }

  async setLabelName(uid: string, labelName: string): Promise<void> {
    await this.db.update(AiOption, { uid }, { labelName });
  }

  /**
   * Salesforce names (descriptions) by class key, a key being an option's label (label_name, else
   * name); of several options with one key the active, described one wins.
   */
  async titlesByLabel(labels: string[]): Promise<Record<string, string | null>> {
    if (labels.length === 0) return {};
    const rows: { label: string; title: string | null }[] = await this.db.query(
      `SELECT DISTINCT ON (COALESCE(label_name, name)) COALESCE(label_name, name) AS label, description AS title
         FROM ai_options WHERE COALESCE(label_name, name) = ANY($1::text[]) ORDER BY COALESCE(label_name, name), active DESC, (description IS NULL), name`,
      [labels],
    );
    return Object.fromEntries(rows.map((r) => [r.label, r.title]));
  }

  /** The options of a kit: linked now, or ever activated on it (history outlives a removed link). */
  optionsLinkedOrActivated(kitUuid: string): Promise<{ uid: string; name: string }[]> {
    return this.db.query(
      `SELECT o.uid, o.name FROM ai_options o
        WHERE o.uid IN (SELECT ai_option_uid FROM test_type_ai_options WHERE test_type_id = $1
                        UNION SELECT ai_option_uid FROM model_activation_events WHERE test_type_id = $1)
        ORDER BY o.name`,
      [kitUuid],
    );
  }
}

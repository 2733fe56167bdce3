// Migrations in the order they run. Listed explicitly so the compiled build needs no globbing.
import { InitialSchema1732300000000 } from './1732300000000-InitialSchema.js';

export const migrations = [InitialSchema1732300000000];

export * from './activation.js';
export * from './dataset-name.js';
export * from './errors.js';
export * from './hyperparameters.js';
export * from './lineage.js';
export * from './permissions.js';
export * from './state-machines.js';
export * from './versioning.js';

// Every job handler of Assay. Add a register function here to run it on workers.
import type { AppContext } from '../../app/context.js';
import { registerMaintenanceJobs } from './maintenance.js';
import { registerDeploymentJobs } from './deployments.js';
import type { JobRegistry } from './registry.js';
import { registerPipelineJobs } from './pipeline.js';
import { registerSalesforceJobs } from './salesforce.js';

export type JobModule = (registry: JobRegistry, ctx: AppContext) => void;

export const jobModules: JobModule[] = [registerMaintenanceJobs, registerDeploymentJobs, registerPipelineJobs, registerSalesforceJobs];

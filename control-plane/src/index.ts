export { createApp, MAX_BODY_BYTES, type ControlPlaneApp, type CreateAppOptions } from './app.js';
export { loadConfig, ConfigError, MIN_JWT_SECRET_LENGTH, SETTINGS, type ControlPlaneConfig } from './config.js';
export { openDatabase, migrateToLatest, type ControlPlaneDatabase } from './db/database.js';
export { startControlPlane, type RunningControlPlane } from './server.js';
export { TokenService } from './tokens.js';
export { phaseOf, gradeOf, type Phase } from './phase.js';

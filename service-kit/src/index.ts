// @agentspec/service-kit: what every AgentSpec service shares and the public SDK does not export.
export {
  readSettings,
  settingsHelp,
  settingsMarkdown,
  shownDefault,
  withSettingsBlock,
  SettingsError,
  type Setting,
  type SettingsTable,
  type SettingsValues,
  type SettingValue,
} from './settings.js';
export { createServiceLogger, type ServiceLoggerOptions } from './logger.js';
export { startOpsServer, type OpsServer, type OpsServerOptions } from './ops-server.js';
export { keepServingOnUnhandledErrors, runCommand, stopOnSignal } from './command.js';

// @agentspec/service-kit: what every AgentSpec service shares and the public SDK does not export.
export {
  KUBE_COMMAND_SETTINGS,
  readSettings,
  setting,
  settingsHelp,
  settingsMarkdown,
  shownDefault,
  withSettingsBlock,
  SettingsError,
  settingsErrorClass,
  type Setting,
  type SettingsTable,
  type SettingsValues,
  type SettingValue,
} from './settings.js';
export { createServiceLogger, type ServiceLoggerOptions } from './logger.js';
export { startOpsServer, type OpsServer, type OpsServerOptions } from './ops-server.js';
export { keepServingOnUnhandledErrors, printedHelp, runCommand, stopOnSignal } from './command.js';
export { Periodic, ifFound } from './periodic.js';

export {
  startTestCluster,
  type ClusterState,
  type ComponentName,
  type StartTestClusterOptions,
  type TestCluster,
} from './cluster.js';
export { createDatabaseAt, startTestPostgres, type TestPostgres } from './postgres.js';
export { ComponentError, ManagedProcess, stopPid, tailOfFile } from './managed-process.js';
export {
  createCertificateAuthority,
  createSigningKeyPair,
  type CertificateAuthority,
  type KeyPairPem,
} from '@agentspec/webhook';
export { freePort } from './free-port.js';
export { httpGet } from './http-probe.js';
export { renderKubeconfig, writeImpersonatingKubeconfig } from './kubeconfig.js';
export { cacheDir, readVersions, testbinPaths, type TestbinPaths } from './testbin.js';
export { waitFor } from './wait-for.js';
export { installCrds, kubectl, crdsDir } from './crds.js';
export { startTestRedis, type TestRedis } from './redis.js';
export { listenOnLoopback } from './listen.js';
export {
  startControlPlaneProcess,
  type ControlPlaneProcess,
  type StartControlPlaneOptions,
} from './control-plane-process.js';
export { PodRunner, type PodRunnerOptions, type RunningPod, type ContainerCommand } from './pod-runner.js';
export { startPlatform, localCommandFor, type Platform, type PlatformOptions } from './platform.js';
export {
  describePod,
  FAST_LIVENESS_VALUES,
  startPodPlatform,
  type PodPlatformOptions,
  type RunningPlatform,
} from './pod-platform.js';
export { nodeBinaryPaths, type NodeBinaryPaths } from './testbin.js';
export { adoptCrd, chartDir, helm, installChart, testWebhookConfiguration, USER_FLAGS } from './chart.js';
export {
  startChartOperator,
  startChartWebhook,
  type ChartComponent,
  type ChartComponentOptions,
} from './components.js';
export { recordFigures, type FigureRow } from './figures.js';
export { auditSecrets, type SecretsAuditOptions, type SecretsAuditResult } from './secrets-audit.js';
export { pythonSdkVenv, PYTHON_AGENT_APP } from './python.js';

export {
  type AddressClass,
  classifyAddress,
  DEFAULT_EGRESS_POLICY,
  type EgressGuard,
  type EgressPolicy,
  EgressRefusedError,
  egressGuard,
} from './egress.ts';
export { createRunnerHost, type RunnerHost, type RunnerHostOptions } from './host.ts';
export type { SecretRefPolicy } from './host-spec.ts';
export { envSecretRefs, SPEC_DEFAULTS, secretRefPolicy, upstreamSpecFor } from './host-spec.ts';
export { liveProcessGroups } from './pool/child-process.ts';
export type { CircuitBreakerOptions } from './pool/circuit-breaker.ts';
export { RELAY_CAPABILITIES } from './pool/connection.ts';
export {
  createUpstreamPool,
  defaultServerEnv,
  type UpstreamPool,
  type UpstreamPoolOptions,
} from './pool/pool.ts';
export type { RestartPolicyOptions } from './pool/restart-policy.ts';
export { createRemoteUpstreams, type RemoteUpstreamsOptions } from './remote/remote-upstreams.ts';
export {
  type ServeUpstreamsOptions,
  serveUpstreams,
  type UpstreamsServer,
} from './remote/serve-upstreams.ts';
export type {
  CallOptions,
  Catalog,
  ClientSideHandlers,
  InstanceState,
  InstanceStatus,
  ListChanged,
  UpstreamSpec,
  UpstreamStatus,
  Upstreams,
} from './upstream.port.ts';

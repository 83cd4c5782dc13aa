import { z } from 'zod';

/**
 * Traces leave the process by OTLP/HTTP (JSON) when the standard `OTEL_*` variables ask for it, and
 * not at all otherwise: an endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`, or the traces-only
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or `OTEL_TRACES_EXPORTER=otlp` turns it on;
 * `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` keeps it off. The exporter reads its own
 * variables (headers, timeout, compression) as the OpenTelemetry spec has them.
 */
export interface TracingConfig {
  exporter: 'otlp' | 'none';
  serviceName: string;
}

const httpUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .optional();

/** The `OTEL_*` variables Switchyard reads itself; part of the configuration schema. */
export const tracingEnv = {
  OTEL_SDK_DISABLED: z.enum(['true', 'false', 'TRUE', 'FALSE']).optional(),
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'none']).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrl,
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/json']).optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.enum(['http/json']).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).max(200).optional(),
};

type TracingEnv = z.infer<z.ZodObject<typeof tracingEnv>>;

/** The tracing part of the configuration, from the parsed `OTEL_*` variables. */
export function tracingConfigOf(c: TracingEnv): TracingConfig {
  const disabled = c.OTEL_SDK_DISABLED?.toLowerCase() === 'true' || c.OTEL_TRACES_EXPORTER === 'none';
  const asked =
    c.OTEL_TRACES_EXPORTER === 'otlp' ||
    c.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined ||
    c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined;
  return { exporter: asked && !disabled ? 'otlp' : 'none', serviceName: c.OTEL_SERVICE_NAME ?? 'switchyard' };
}

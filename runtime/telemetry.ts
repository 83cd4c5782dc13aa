import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { TracingConfig } from './telemetry-config.ts';

export interface Telemetry {
  /** Exports what is buffered and unregisters (the last holder of a shared provider only). */
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  /** Spans go here, each as it ends (tests: an in-memory exporter), instead of OTLP. */
  exporter?: SpanExporter;
  /** Resource attributes besides the service's name and version. */
  attributes?: Record<string, string>;
  version: string;
}

/** The provider of this process, shared by the systems a process starts (tests start several). */
let shared: { provider: TracerProvider; holders: number } | undefined;

/**
 * Registers the OpenTelemetry SDK for this process: an AsyncLocalStorage context manager, W3C trace
 * context, and a provider exporting by OTLP (batched) or to `options.exporter`. Nothing at all when
 * the configuration says none and no exporter is given. A second system in the same process shares
 * the first one's provider.
 */
export function startTelemetry(config: TracingConfig, options: TelemetryOptions): Telemetry {
  if (config.exporter === 'none' && !options.exporter) return { shutdown: async () => {} };
  if (!shared) {
    const processor: SpanProcessor = options.exporter
      ? new SimpleSpanProcessor({ exporter: options.exporter })
      : new BatchSpanProcessor({ exporter: new OTLPTraceExporter() });
    const provider = new TracerProvider({
      resource: defaultResource().merge(
        resourceFromAttributes({
          'service.name': config.serviceName,
          'service.version': options.version,
          ...options.attributes,
        }),
      ),
      spanProcessors: [processor],
    });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    shared = { provider, holders: 0 };
  }
  const mine = shared;
  mine.holders++;
  let released = false;
  return {
    async shutdown() {
      if (released) return;
      released = true;
      if (--mine.holders > 0) {
        await mine.provider.forceFlush();
        return;
      }
      if (shared === mine) shared = undefined;
      await mine.provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

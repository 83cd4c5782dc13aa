import { activeTraceparent, inSpan, SpanKind } from '../kernel/tracing.ts';
import type { Bus, RequestOptions, SubjectMessage } from './bus.port.ts';

/** The W3C header a request or message carries its trace context in (as HTTP does). */
export const TRACEPARENT_HEADER = 'traceparent';

/**
 * A bus whose requests and messages carry the caller's trace context, and whose handlers run in a
 * span that continues it: a tool call's span on a gateway is the parent of the runner's work on it.
 * Either adapter, unchanged underneath; events carry theirs in their metadata instead (the relay
 * puts it in the JetStream headers).
 */
export function tracedBus(bus: Bus): Bus {
  const attributes = (destination: string) => ({
    'messaging.system': 'nats',
    'messaging.destination.name': destination,
  });
  /** Headers with the active span's context added (a caller's own traceparent header is kept). */
  const withTrace = (headers: Record<string, string> | undefined) => {
    const traceparent = activeTraceparent();
    if (!traceparent || headers?.[TRACEPARENT_HEADER]) return headers;
    return { ...headers, [TRACEPARENT_HEADER]: traceparent };
  };
  const traced = <T>(
    name: string,
    destination: string,
    kind: SpanKind,
    parent: string | undefined,
    fn: () => Promise<T>,
  ) => inSpan(name, { kind, traceparent: parent, attributes: attributes(destination) }, () => fn());
  const firstToken = (subject: string) => subject.split('.')[0] ?? subject;

  return {
    get names() {
      return bus.names;
    },
    publish: (events, options) => bus.publish(events, options),
    lastPublished: () => bus.lastPublished(),
    consume: (options) => bus.consume(options),
    watch: (options) => bus.watch(options),
    deadLetters: (consumer) => bus.deadLetters(consumer),
    info: () => bus.info(),
    close: () => bus.close(),

    request(category, name, payload, options: RequestOptions = {}) {
      const destination = `cmd.${category}.${name}`;
      return traced(`send ${category}`, destination, SpanKind.CLIENT, undefined, () =>
        bus.request(category, name, payload, { ...options, headers: withTrace(options.headers) }),
      );
    },
    serveCommands(options) {
      return bus.serveCommands({
        ...options,
        handler: (command) =>
          traced(
            `process ${command.category}`,
            `cmd.${command.category}.${command.name}`,
            SpanKind.SERVER,
            command.headers[TRACEPARENT_HEADER],
            () => options.handler(command),
          ),
      });
    },
    requestSubject(subject, payload, options: RequestOptions = {}) {
      return traced(`send ${firstToken(subject)}`, subject, SpanKind.CLIENT, undefined, () =>
        bus.requestSubject(subject, payload, { ...options, headers: withTrace(options.headers) }),
      );
    },
    serveSubject(options) {
      return bus.serveSubject({
        ...options,
        handler: (message: SubjectMessage) =>
          traced(
            `process ${firstToken(message.subject)}`,
            message.subject,
            SpanKind.SERVER,
            message.headers[TRACEPARENT_HEADER],
            () => options.handler(message),
          ),
      });
    },
    publishSubject(subject, payload, options = {}) {
      const headers = withTrace(options.headers);
      return bus.publishSubject(subject, payload, headers ? { ...options, headers } : options);
    },
    subscribeSubject: (options) => bus.subscribeSubject(options),
  };
}

import { once } from 'node:events';
import { deserializeMessage, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ServerProcess } from './child-process.ts';

/**
 * The MCP stdio transport over a process we spawned ourselves. The SDK's StdioClientTransport
 * spawns its own child, adds HOME, LOGNAME, SHELL, TERM and USER to the environment, and kills only
 * the direct child; we need an exact environment, a process group, and a tree that is reaped.
 *
 * Anything on stdout that is not a JSON-RPC message breaks the MCP stdio contract ("the server
 * MUST NOT write anything to its stdout that is not a valid MCP message"). It is reported through
 * `onProtocolError`, and the owner ends the process: requests in flight then fail at once with a
 * message naming the garbage, instead of waiting for their timeouts.
 */
export class ChildStdioTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;
  private pending: Buffer = Buffer.alloc(0);
  /** Messages are handed on one after another through this chain (see deliver()). */
  private delivery: Promise<void> = Promise.resolve();
  private closed = false;
  /** Set after a protocol violation: nothing more from this process is trusted. */
  private broken = false;

  constructor(
    private readonly proc: ServerProcess,
    private readonly options: { killGraceMs: number; onProtocolError: (line: string, error: Error) => void },
  ) {}

  async start(): Promise<void> {
    this.proc.stdout.on('data', (chunk: Buffer) => this.receive(chunk));
    void this.proc.exited.then(async () => {
      // Messages written just before exiting may still sit in the pipe; let them arrive first, but
      // do not wait on a stdout a surviving grandchild may hold open.
      if (!this.proc.stdout.readableEnded) {
        await Promise.race([once(this.proc.stdout, 'end'), new Promise((r) => setTimeout(r, 200))]).catch(
          () => {},
        );
      }
      await this.delivery;
      this.finish();
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed || !this.proc.stdin.writable) throw new Error('Not connected');
    const json = serializeMessage(message);
    if (!this.proc.stdin.write(json)) await once(this.proc.stdin, 'drain');
  }

  async close(): Promise<void> {
    await this.proc.kill(this.options.killGraceMs);
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = Buffer.alloc(0);
    this.onclose?.();
  }

  /**
   * The SDK handles a notification one microtask later than a response. When a server's last
   * progress notification and its result arrive in one chunk, the result would be handled first
   * and the progress dropped ("unknown token"). So after each notification we yield once, letting
   * its handler run before the next message is handed on.
   */
  private deliver(messages: JSONRPCMessage[]): void {
    this.delivery = this.delivery.then(async () => {
      for (const message of messages) {
        if (this.closed) return;
        this.onmessage?.(message);
        if (!('id' in message)) await null;
      }
    });
  }

  private receive(chunk: Buffer): void {
    if (this.closed || this.broken) return;
    const messages: JSONRPCMessage[] = [];
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const nl = this.pending.indexOf(10);
      if (nl < 0) break;
      const line = this.pending.toString('utf8', 0, nl).replace(/\r$/, '');
      this.pending = this.pending.subarray(nl + 1);
      if (line.trim() === '') continue;
      let message: JSONRPCMessage;
      try {
        message = deserializeMessage(line);
      } catch (e) {
        this.broken = true;
        this.deliver(messages);
        this.options.onProtocolError(line, e as Error);
        return;
      }
      messages.push(message);
    }
    this.deliver(messages);
    if (this.pending.length > MAX_LINE_BYTES) {
      this.broken = true;
      this.options.onProtocolError(
        this.pending.toString('utf8', 0, 200),
        new Error(`a stdout line grew beyond ${MAX_LINE_BYTES} bytes without a newline`),
      );
    }
  }
}

/** The SDK's own stdio limit: a message larger than this is not going to end well. */
const MAX_LINE_BYTES = 10 * 1024 * 1024;

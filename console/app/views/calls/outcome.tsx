import { Badge } from '../../ui.tsx';
import type { ToolCall } from './model.ts';

/**
 * How a call ended, in words: a tool that answered with `isError: true` succeeded as a call but
 * reported an error, so it gets a word (and a tone) of its own.
 */
export function OutcomeBadge(props: { call: Pick<ToolCall, 'status' | 'isError'> }) {
  const { status, isError } = props.call;
  if (status === 'succeeded' && isError) {
    return (
      <span class="badge warn" title="The tool answered isError: true; the call itself succeeded">
        <span aria-hidden="true">◆ </span>tool error
      </span>
    );
  }
  return <Badge state={status} />;
}

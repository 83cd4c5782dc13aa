import { useState } from 'preact/hooks';
import { Json } from '../../ui.tsx';

/** An event's data, folded: rendered only once opened (hundreds of rows stay light). */
export function DataCell(props: { value: unknown; label: string }) {
  const [open, setOpen] = useState(false);
  return (
    <details onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary aria-label={`Data of ${props.label}`}>data</summary>
      {open && <Json value={props.value} />}
    </details>
  );
}

// A native <dialog> opened as a modal and kept in step with a page's `open` state: the browser
// traps focus and makes the rest of the page inert; this hook moves focus in on opening (to
// `focus()`'s element: the safe choice, or the first field), turns Escape into the page's own
// cancel (refused while `busy`), and gives focus back to what opened the dialog when it closes.
import type { RefObject } from 'preact';
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';

export function useModal({
  open,
  busy = false,
  onCancel,
  focus,
}: {
  open: boolean;
  busy?: boolean;
  onCancel: () => void;
  /** Where focus goes on opening. */
  focus: (dialog: HTMLDialogElement) => HTMLElement | null | undefined;
}): RefObject<HTMLDialogElement | null> {
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<Element | null>(null);

  useLayoutEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      opener.current = document.activeElement;
      d.showModal();
      focus(d)?.focus();
    } else if (!open && d.open) {
      d.close();
    }
  }, [open]);

  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    const cancel = (e: Event) => {
      e.preventDefault();
      if (!busy) onCancel();
    };
    const closed = () => {
      const back = opener.current;
      opener.current = null;
      if (back instanceof HTMLElement && back.isConnected) back.focus();
    };
    d.addEventListener('cancel', cancel);
    d.addEventListener('close', closed);
    return () => {
      d.removeEventListener('cancel', cancel);
      d.removeEventListener('close', closed);
    };
  }, [busy, onCancel]);

  return ref;
}

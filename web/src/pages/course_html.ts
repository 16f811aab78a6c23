// Course pages' HTML, made safe to put into the application's document.
//
// The content plugin already sanitises what it renders, and the server's Content-Security-Policy
// (`script-src 'self'`) forbids inline script and event-handler attributes. This is the third
// layer: whatever the HTML holds, only what DOMPurify keeps reaches the DOM, so rendered course
// content cannot run script in the application's origin even if the other two failed.
import DOMPurify from 'dompurify';

const HEADINGS = ['H1', 'H2', 'H3', 'H4', 'H5', 'H6'];

/**
 * Sanitises a page's HTML and fits it into the item page:
 * - headings move down so that the highest is an `h2` (the item's title is the document's one
 *   `h1`, and levels are not skipped), keeping their ids, which the table of contents and the
 *   tutor's citations link to;
 * - task-list checkboxes (read-only) are named by their item's text, for screen readers.
 */
export function courseHtml(html: string): DocumentFragment {
  // Nor may it restyle the application (an overlay, a hidden element) or post a form elsewhere.
  const fragment = DOMPurify.sanitize(html, {
    RETURN_DOM_FRAGMENT: true,
    FORBID_TAGS: ['style', 'form'],
    FORBID_ATTR: ['style'],
  });
  const headings = Array.from(fragment.querySelectorAll(HEADINGS.join(',')));
  const top = Math.min(...headings.map((h) => HEADINGS.indexOf(h.tagName)));
  const shift = headings.length ? Math.max(0, 1 - top) : 0;
  for (const h of shift ? headings : []) {
    const lower = document.createElement(HEADINGS[Math.min(5, HEADINGS.indexOf(h.tagName) + shift)]!);
    for (const a of Array.from(h.attributes)) lower.setAttribute(a.name, a.value);
    lower.append(...Array.from(h.childNodes));
    h.replaceWith(lower);
  }
  for (const box of Array.from(fragment.querySelectorAll<HTMLInputElement>('input[type=checkbox]'))) {
    if (!box.hasAttribute('aria-label') && !box.closest('label')) {
      const text = box.parentElement?.textContent?.trim();
      if (text) box.setAttribute('aria-label', text);
    }
    box.disabled = true;
  }
  return fragment;
}

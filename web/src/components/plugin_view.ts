// Views from plugins (question types on the exam page, activities on item pages): HTML the kernel
// sanitised (kernel/lectern-host/src/view.rs: no script, style, URL, id; every button a plain
// button; forms that post nowhere), put into the page through DOMPurify again — the server's
// Content-Security-Policy forbids inline script too. Plugins never run code in this origin:
// interaction is declarative (form fields; `data-action` elements, which the page turns into a
// request to the kernel's own route). A plugin's classes are prefixed (`pv-…`) and its images
// without a source are hidden (styles.css, `.plugin-box`).
import DOMPurify from 'dompurify';

/** An image the kernel points at the plugin's own package assets (kernel/lectern-host/src/view.rs). */
const ASSET_URL = /^\/plugin-assets\/[^/]+\/[A-Za-z0-9._-]+$/;

/** Keeps an image's `src` only when it is one of the plugin's assets, and prefixes every class
 *  with `pv-`: the application's own styles (`.progress`, `.card`, …) never apply to a plugin's
 *  markup by a clash of names. */
function onlyAssetImages(node: Element, data: { attrName: string; attrValue: string; keepAttr: boolean }) {
  if (data.attrName === 'src' && !(node.nodeName === 'IMG' && ASSET_URL.test(data.attrValue))) data.keepAttr = false;
  if (data.attrName === 'class') {
    data.attrValue = data.attrValue
      .split(/\s+/)
      .filter(Boolean)
      .map((c) => `pv-${c}`)
      .join(' ');
  }
}

/** A plugin view's HTML as it may enter the document: the third layer after the kernel and the CSP.
 *  Images stay only when they are the plugin's own assets, served by the kernel. */
export function pluginHtml(html: string): string {
  // The hook is DOMPurify's global state: added for this call only (sanitising is synchronous).
  DOMPurify.addHook('uponSanitizeAttribute', onlyAssetImages);
  try {
    return DOMPurify.sanitize(html, {
      FORBID_TAGS: ['style', 'script', 'iframe', 'a', 'svg', 'math', 'video', 'audio', 'source', 'picture'],
      FORBID_ATTR: ['style', 'id', 'action', 'method', 'formaction', 'href', 'srcset', 'target', 'xlink:href'],
    });
  } finally {
    DOMPurify.removeHook('uponSanitizeAttribute', onlyAssetImages);
  }
}

export type Fields = { [name: string]: string | string[] };

type Field = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/** The named form fields under `root`: a value per name, a list for a name used more than once or
 *  a multiple select; unchecked boxes and radios count for nothing. */
export function readFields(root: Element): Fields {
  const out: Fields = {};
  const add = (name: string, value: string) => {
    const had = out[name];
    out[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  };
  root.querySelectorAll<Field>('input, select, textarea').forEach((f) => {
    if (!f.name) return;
    if (f instanceof HTMLInputElement && (f.type === 'checkbox' || f.type === 'radio')) {
      if (f.checked) add(f.name, f.value);
    } else if (f instanceof HTMLSelectElement && f.multiple) {
      out[f.name] = Array.from(f.selectedOptions).map((o) => o.value);
    } else {
      add(f.name, f.value);
    }
  });
  return out;
}

/** Puts saved `fields` back into the form fields under `root`. */
export function fillFields(root: Element, fields: Fields) {
  const values = (name: string) => {
    const v = fields[name];
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  };
  const seen: Record<string, number> = {};
  root.querySelectorAll<Field>('input, select, textarea').forEach((f) => {
    if (!f.name) return;
    const vs = values(f.name);
    if (f instanceof HTMLInputElement && (f.type === 'checkbox' || f.type === 'radio')) {
      f.checked = vs.includes(f.value);
    } else if (f instanceof HTMLSelectElement && f.multiple) {
      Array.from(f.options).forEach((o) => (o.selected = vs.includes(o.value)));
    } else {
      const i = seen[f.name] ?? 0;
      seen[f.name] = i + 1;
      f.value = typeof vs[i] === 'string' ? vs[i] : '';
    }
  });
}

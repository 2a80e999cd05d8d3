// Tiny DOM builder: h('button', { class: 'btn', onclick: fn }, 'text', child, ...)

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'value') el.value = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replace the children of `el`, skipping null/false entries and flattening arrays. */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c != null && c !== false));
  return el;
}

let uid = 0;
/** A document-unique id for label/aria wiring. */
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/**
 * Put back values saved by id (text, or `checked` for checkboxes and radios) inside `root`, firing the
 * events a person's input would so that pages update their own state.
 */
export function restoreValues(root, values) {
  if (!values) return;
  for (const [id, v] of Object.entries(values)) {
    const el = root.querySelector(`#${CSS.escape(id)}`);
    if (!el || !('value' in el)) continue;
    if (el.type === 'checkbox' || el.type === 'radio') {
      if (el.checked === v) continue;
      el.checked = v;
      el.dispatchEvent(new Event('change', { bubbles: true }));
    } else if (el.value !== v) {
      el.value = v;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }
  }
}

/**
 * The one keyboard-shortcut policy of the app: single-key shortcuts (1..6, ?, g, /, w, ...) act
 * only when the user is not typing. Typing means the key's target, or the focused element, is
 * a text field, a select, anything contentEditable, or inside an editor: Monaco's input is a
 * textarea in some browsers and a `div.native-edit-context` (EditContext API) in current
 * Chromium, neither of which the old "input/textarea/contentEditable" test caught.
 */
const EDITOR = '.monaco-editor, .native-edit-context, [contenteditable]:not([contenteditable="false"]), [role="textbox"], [role="combobox"]';

function typingIn(el: Element | null): boolean {
  if (!el || !(el instanceof Element)) return false;
  if (el instanceof HTMLInputElement) {
    return !['button', 'checkbox', 'radio', 'range', 'submit', 'reset', 'file', 'color', 'image'].includes(el.type);
  }
  if (el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) return true;
  if (el instanceof HTMLElement && el.isContentEditable) return true;
  return el.closest(EDITOR) !== null;
}

/** True when a key event belongs to a text field or editor and must not trigger a shortcut. */
export function isTyping(e: Pick<KeyboardEvent, 'target'>): boolean {
  return typingIn(e.target as Element | null) || (typeof document !== 'undefined' && typingIn(document.activeElement));
}

/** A plain key (no Ctrl/Meta/Alt) pressed outside any text field or editor, not yet handled. */
export function isShortcut(e: KeyboardEvent | React.KeyboardEvent): boolean {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return false;
  return !isTyping(e);
}

/**
 * Move focus into a panel once it is there: called by a panel for its main element. Focus moves
 * only when it is not somewhere the user chose (a field, an editor) inside the panel host.
 */
export function focusIfIdle(el: HTMLElement | null | undefined): void {
  if (!el) return;
  const a = document.activeElement;
  const host = el.closest('.panelhost');
  const idle = !a || a === document.body || !host || !host.contains(a) || a === host || !typingIn(a);
  if (idle && a !== el) el.focus({ preventScroll: true });
}

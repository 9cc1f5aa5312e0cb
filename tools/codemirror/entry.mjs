// What the editors' page uses of CodeMirror 6, on one global: `window.CM`.
// Only these extensions are bundled; src/service/web/editor-code.js puts them together.
export { EditorState, StateEffect, StateField, Compartment } from "@codemirror/state";
export {
  EditorView,
  keymap,
  lineNumbers,
  highlightActiveLine,
  highlightActiveLineGutter,
  drawSelection,
  hoverTooltip,
  placeholder,
} from "@codemirror/view";
export {
  defaultKeymap,
  history,
  historyKeymap,
  indentWithTab,
} from "@codemirror/commands";
export {
  syntaxHighlighting,
  defaultHighlightStyle,
  indentOnInput,
  indentUnit,
} from "@codemirror/language";
export { yaml } from "@codemirror/lang-yaml";
export {
  autocompletion,
  completionKeymap,
  closeBrackets,
} from "@codemirror/autocomplete";
export { setDiagnostics, lintGutter, lintKeymap, forEachDiagnostic } from "@codemirror/lint";

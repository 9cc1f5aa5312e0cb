// The YAML view of the editors' page: CodeMirror 6 (vendor/codemirror.js, the global `CM`) with
// YAML highlighting, the checker's errors and warnings at their line and column, and completion
// and hover help from the JSON Schemas triage generates (GET /api/editor/schema/{name}).
//
// One editor view; every file keeps its own state (text, undo history, diagnostics), so that
// switching files and back loses nothing. The page tells it which file to show and what the
// checker said; it tells the page when a text changed.
'use strict';

(function () {
  const { h, api } = triage;

  /** Which schema describes a file of the editors' API. */
  function schemaName(path) {
    if (path.startsWith('flows/')) return 'flow';
    const m = /^rules\/(departments|privacy|office-hours)\.yaml$/.exec(path);
    return m ? m[1] : null;
  }

  // -------------------------------------------------------------------------------------------
  // Where the cursor is in the YAML: the keys and list items from the top of the file to it,
  // read from the indentation (the text may be invalid while it is being typed).

  const KEY = /^(\s*)((?:-\s+)*)(?:(["']?)([A-Za-z_][\w-]*)\3\s*:(?=\s|$))?(.*)$/;

  /** A line as the nodes that start on it, outermost first: list items ({item, col}) and at most
   * one key ({key, col, rest}). */
  function nodesOf(text) {
    const m = KEY.exec(text);
    const nodes = [];
    let col = m[1].length;
    const dashes = m[2];
    for (let i = 0; i < dashes.length;) {
      nodes.push({ item: true, col: col + i });
      i += 1;
      while (i < dashes.length && /\s/.test(dashes[i])) i++;
    }
    col += dashes.length;
    if (m[4] !== undefined) nodes.push({ key: m[4], col, rest: m[5].trim() });
    return nodes;
  }

  /** The path (keys, and '[]' for a list item) of the node at `col` on line `lineNo` (1-based),
   * or null inside a block of text (`|`, `>`). `item`: that node is a list item (whose list may
   * hang under a key at the same column). */
  function pathAt(doc, lineNo, col, item) {
    const path = [];
    let cur = col;
    let ownerOfList = !!item;
    for (let n = lineNo - 1; n >= 1 && (cur > 0 || ownerOfList); n--) {
      const text = doc.line(n).text;
      if (!text.trim() || /^\s*#/.test(text)) continue;
      const nodes = nodesOf(text);
      for (let i = nodes.length - 1; i >= 0; i--) {
        const node = nodes[i];
        if (node.key !== undefined && (node.col < cur || (ownerOfList && node.col <= cur))) {
          if (/^[|>][-+0-9]*\s*(#.*)?$/.test(node.rest)) return null;
          path.unshift(node.key);
          cur = node.col;
          ownerOfList = false;
        } else if (node.item && node.col < cur) {
          path.unshift('[]');
          cur = node.col;
          ownerOfList = true;
        }
      }
      // A line deeper than the cursor that is not a key (a wrapped text) says nothing.
    }
    return path;
  }

  /** The path of the mapping a key at `col` on line `lineNo` is in, where `lead` is what comes
   * before the key on its line (indentation, and `- ` for a list item). */
  function mappingAt(doc, lineNo, lead) {
    const indent = /^\s*/.exec(lead)[0].length;
    const dashes = (lead.slice(indent).match(/-/g) || []).length;
    if (!dashes) return pathAt(doc, lineNo, indent);
    const path = pathAt(doc, lineNo, indent, true);
    if (!path) return null;
    for (let i = 0; i < dashes; i++) path.push('[]');
    return path;
  }

  // -------------------------------------------------------------------------------------------
  // The schemas

  const schemas = {};

  async function schemaFor(path) {
    const name = schemaName(path);
    if (!name) return null;
    if (!schemas[name]) {
      schemas[name] = api('GET', '/api/editor/schema/' + name).catch(() => {
        delete schemas[name];
        return null;
      });
    }
    return schemas[name];
  }

  /** `s` with its `$ref`s followed and an optional's `null` left out. */
  function resolve(root, s) {
    for (let guard = 0; s && guard < 20; guard++) {
      if (s.$ref) {
        s = (root.$defs || root.definitions || {})[s.$ref.split('/').pop()];
      } else if (s.anyOf || s.oneOf) {
        s = (s.anyOf || s.oneOf).find((x) => x.type !== 'null');
      } else if (s.allOf && s.allOf.length === 1) {
        s = s.allOf[0];
      } else {
        return s;
      }
    }
    return s || null;
  }

  /** The schema of what `path` names under `root`. */
  function walk(root, path) {
    let s = resolve(root, root);
    for (const seg of path) {
      if (!s) return null;
      if (seg === '[]') s = resolve(root, s.items);
      else if (s.properties && s.properties[seg]) s = resolve(root, s.properties[seg]);
      else if (s.additionalProperties && typeof s.additionalProperties === 'object') s = resolve(root, s.additionalProperties);
      else return null;
    }
    return s;
  }

  function types(s) {
    return [].concat(s && s.type ? s.type : []);
  }

  /** A schema's description as a paragraph: its doc comment's line breaks are not meant. */
  function prose(text) {
    return text ? text.replace(/([^\n])\n(?!\n)/g, '$1 ') : text;
  }

  // -------------------------------------------------------------------------------------------
  // The editor

  /**
   * Makes the YAML view in `parent`. `onChange(path, text)` is called on every change a person
   * makes; `extraValues(key)` may give completions for a key's value (the topics' ids for
   * `topic:`).
   */
  function create(parent, { onChange, extraValues }) {
    const {
      EditorState, EditorView, Compartment, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
      drawSelection, hoverTooltip, defaultKeymap, history, historyKeymap, indentWithTab, syntaxHighlighting,
      defaultHighlightStyle, indentOnInput, indentUnit, yaml, autocompletion, completionKeymap, setDiagnostics,
      lintGutter, lintKeymap,
    } = CM;
    const states = new Map();
    const diagnostics = new Map();
    let current = null;
    const label = new Compartment();

    async function complete(context) {
      const path = current;
      const line = context.state.doc.lineAt(context.pos);
      const before = line.text.slice(0, context.pos - line.from);
      const root = await schemaFor(path);
      if (!root) return null;
      // A key being typed: `  ti`, `  - ti`, or nothing yet on an indented line.
      const k = /^(\s*(?:-\s+)*)([A-Za-z_][\w-]*)?$/.exec(before);
      if (k && (k[2] || context.explicit || /^\s+$/.test(before) || /-\s+$/.test(before))) {
        const col = k[1].length;
        const parentPath = mappingAt(context.state.doc, line.number, k[1]);
        if (!parentPath) return null;
        const s = walk(root, parentPath);
        if (!s || !s.properties) return null;
        const present = siblings(context.state.doc, line.number, col, /-\s*$/.test(k[1]));
        const options = Object.entries(s.properties)
          .filter(([name]) => !present.has(name))
          .map(([name, p]) => {
            const ps = resolve(root, p);
            const t = types(ps);
            const nested = t.includes('array') || (t.includes('object') && !t.includes('string'));
            return {
              label: name,
              type: 'property',
              detail: (s.required || []).includes(name) ? 'verplicht' : undefined,
              info: prose(p.description || (ps && ps.description)) || undefined,
              apply: name + (nested ? ':\n' + ' '.repeat(col + 2) + (t.includes('array') ? '- ' : '') : ': '),
              boost: (s.required || []).includes(name) ? 1 : 0,
            };
          });
        return { from: context.pos - (k[2] || '').length, options, validFor: /^[\w-]*$/ };
      }
      // A value after `key: `: the choices the schema knows, and the topics' ids.
      const v = /^(\s*(?:-\s+)*)([A-Za-z_][\w-]*):\s+([\w-]*)$/.exec(before);
      if (v) {
        const parentPath = mappingAt(context.state.doc, line.number, v[1]);
        if (!parentPath) return null;
        const s = walk(root, parentPath.concat(v[2]));
        let values = [];
        if (s && s.enum) values = s.enum.filter((x) => x !== null).map(String);
        else if (types(s).includes('boolean')) values = ['true', 'false'];
        if (extraValues) values = values.concat(extraValues(v[2], path) || []);
        if (!values.length) return null;
        return {
          from: context.pos - v[3].length,
          options: values.map((x) => ({ label: x, type: 'constant' })),
          validFor: /^[\w-]*$/,
        };
      }
      return null;
    }

    /** The keys already written beside the one at `col` on `lineNo` (in the same mapping);
     * `first`: the key is the first of a list item, so the mapping starts on its line. */
    function siblings(doc, lineNo, col, first) {
      const found = new Set();
      const scan = (from, step) => {
        for (let n = from; n >= 1 && n <= doc.lines; n += step) {
          const text = doc.line(n).text;
          if (!text.trim() || /^\s*#/.test(text)) continue;
          const nodes = nodesOf(text);
          const key = nodes.find((x) => x.key !== undefined);
          const first = nodes.length ? nodes[0].col : text.search(/\S/);
          if (key && key.col === col) found.add(key.key);
          // The mapping ends at a line less indented, or at the next item of the same list.
          if (first < col || (nodes[0] && nodes[0].item && nodes[0].col < col)) {
            if (step < 0 && key && key.col === col) found.add(key.key);
            break;
          }
        }
      };
      if (!first) scan(lineNo - 1, -1);
      scan(lineNo + 1, 1);
      return found;
    }

    const hover = hoverTooltip(async (view, pos) => {
      const line = view.state.doc.lineAt(pos);
      const nodes = nodesOf(line.text);
      const key = nodes.find((x) => x.key !== undefined);
      if (!key) return null;
      const start = line.from + key.col;
      const end = start + key.key.length;
      if (pos < start || pos > end) return null;
      const root = await schemaFor(current);
      const parentPath = root && mappingAt(view.state.doc, line.number, line.text.slice(0, key.col));
      if (!parentPath) return null;
      const parentSchema = walk(root, parentPath);
      const own = parentSchema && parentSchema.properties && parentSchema.properties[key.key];
      const s = walk(root, parentPath.concat(key.key));
      const text = prose((own && own.description) || (s && s.description));
      if (!text) return null;
      return {
        pos: start, end, above: true,
        create: () => ({ dom: h('div', { class: 'cm-help', 'data-test': 'code-hover' }, h('strong', {}, key.key), h('div', {}, text)) }),
      };
    }, { hoverTime: 350 });

    function stateFor(text) {
      return EditorState.create({
        doc: text,
        extensions: [
          lineNumbers(), highlightActiveLineGutter(), highlightActiveLine(), drawSelection(),
          history(), indentOnInput(), indentUnit.of('  '), EditorState.tabSize.of(2),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }), yaml(),
          autocompletion({ override: [complete], activateOnTyping: true }), hover, lintGutter(),
          keymap.of([...completionKeymap, ...lintKeymap, ...defaultKeymap, ...historyKeymap, indentWithTab]),
          label.of(EditorView.contentAttributes.of({})),
          EditorView.lineWrapping,
          EditorView.updateListener.of((u) => {
            if (u.docChanged && current && !applying) onChange(current, u.state.doc.toString());
          }),
        ],
      });
    }

    let applying = false;
    // In a shadow root: CodeMirror's styles then go in a constructed style sheet, which the
    // pages' Content Security Policy (styles from this origin only, no inline `<style>`) allows.
    // The page's own rules for the editor come in as a stylesheet link of this origin.
    const shadow = parent.attachShadow({ mode: 'open' });
    shadow.append(h('link', { rel: 'stylesheet', href: '/assets/editor-code.css' }));
    const host = h('div', { class: 'code' });
    shadow.append(host);
    const view = new EditorView({ parent: host, root: shadow, state: stateFor('') });

    /** The API's diagnostics as CodeMirror's: from the column to the end of the word there. */
    function toCm(doc, list) {
      return list.map((d) => {
        const n = Math.min(Math.max(d.line, 1), doc.lines);
        const line = doc.line(n);
        const from = Math.min(line.from + Math.max(d.column - 1, 0), line.to);
        const word = /^[^\s:,\]}]*/.exec(line.text.slice(from - line.from))[0].length;
        return {
          from, to: Math.min(from + Math.max(word, 1), line.to), severity: d.severity === 'error' ? 'error' : 'warning',
          message: d.message + (d.help ? '\n💡 ' + d.help : ''),
        };
      });
    }

    function applyDiagnostics() {
      if (!current) return;
      view.dispatch(setDiagnostics(view.state, toCm(view.state.doc, diagnostics.get(current) || [])));
    }

    return {
      /** Shows `path`: its own state if it was open before, else `text`. */
      open(path, text) {
        if (current) states.set(current, view.state);
        current = path;
        view.setState(states.get(path) || stateFor(text));
        view.dispatch({ effects: label.reconfigure(EditorView.contentAttributes.of({ 'aria-label': 'YAML van ' + path, 'aria-describedby': 'code-hint', 'data-path': path, tabindex: '0' })) });
        applyDiagnostics();
      },
      /** The text of `path` as it is in the editor (or null when it was never opened). */
      text(path) {
        if (path === current) return view.state.doc.toString();
        const s = states.get(path);
        return s ? s.doc.toString() : null;
      },
      /** Replaces the text of the file shown, as one change (undo brings the old one back). */
      replace(text) {
        const doc = view.state.doc;
        if (doc.toString() === text) return;
        view.dispatch({ changes: { from: 0, to: doc.length, insert: text } });
      },
      /** Forgets every file's state: after a publish, a rollback or a discarded draft. */
      reset() {
        states.clear();
        diagnostics.clear();
        current = null;
        applying = true;
        view.setState(stateFor(''));
        applying = false;
      },
      /** The checker's diagnostics, for every file (by its API path). */
      setDiagnostics(byFile) {
        diagnostics.clear();
        for (const [path, list] of Object.entries(byFile)) diagnostics.set(path, list);
        applyDiagnostics();
      },
      /** The cursor to a line and column of the file shown, and the focus there. */
      goto(line, column) {
        const doc = view.state.doc;
        const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
        const at = Math.min(l.from + Math.max(column - 1, 0), l.to);
        view.dispatch({ selection: { anchor: at }, scrollIntoView: true });
        view.focus();
      },
      focus() { view.focus(); },
      get current() { return current; },
    };
  }

  triage.codeEditor = { create, pathAt, schemaName };
})();

// convlab.widgets: what both widgets build around the page's grids (grids.js comes in front of this file and
// each widget's own render after it; see assets.py). The numbers come from Python in the trait "answer";
// edits go back to Python as messages, which convlab reads.

// A labelled control whose text is sent to Python on typing: Python reads it with convlab and sets the trait.
function control(model, name, label, element, later) {
  const wrap = document.createElement("label");
  wrap.append(label, element);
  element.dataset.setting = name;
  element.spellcheck = false;
  element.addEventListener("input", later(() => model.send({ edit: name, text: element.value })));
  return wrap;
}

function textarea(rows, label) {
  const element = document.createElement("textarea"); element.rows = rows; element.setAttribute("aria-label", label);
  return element;
}

function text(label) {
  const element = document.createElement("input"); element.type = "text"; element.className = "setting";
  element.setAttribute("aria-label", label);
  return element;
}

// A trait's value as the text of its control: a matrix one row a line, planes between | lines, a pair "1, 2".
function settingText(value) {
  if (value === null || value === undefined) return "";
  const rows = (matrix) => matrix.map((row) => row.map(number).join(" ")).join("\n");
  if (Array.isArray(value) && value.length && Array.isArray(value[0]) && Array.isArray(value[0][0])) {
    return value.map(rows).join("\n|\n");  // the planes of a multi-channel image
  }
  if (Array.isArray(value) && value.length && Array.isArray(value[0])) return rows(value);
  if (Array.isArray(value)) return value.join(", ");
  return String(value);
}

// Waits for a pause in typing, as the page does, so each keystroke does not recompute.
function debouncer(ms = 250) {
  return (fn) => { let timer = null; return () => { clearTimeout(timer); timer = setTimeout(fn, ms); }; };
}

// Shows Python's values in the controls, except in the one being typed in.
function showSettings(model, root) {
  for (const element of root.querySelectorAll("[data-setting]")) {
    if (element === document.activeElement) continue;
    const text = settingText(model.get(element.dataset.setting));
    if (element.value !== text) element.value = text;
  }
}

function errorBox(model, box) {
  const error = model.get("error");
  box.textContent = error; box.hidden = !error;
}

function figure(caption, table, hint) {
  const box = document.createElement("figure");
  const title = document.createElement("figcaption"); title.textContent = caption;
  if (hint) { const small = document.createElement("span"); small.className = "hint"; small.textContent = hint; title.append(" ", small); }
  box.append(title, table);
  return box;
}

function grid(label, className) {
  const table = document.createElement("table"); table.className = `grid ${className}`;
  table.setAttribute("aria-label", label);
  return table;
}

// The widget's box: the page's colours (.convlab), and JupyterLab's notebook shortcuts kept out, so keys
// pressed on an output value or in a box stay in the widget ("b" is not "insert a cell below"). JupyterLab
// looks for the attribute from the focused element up, and the focused element matches its shortcuts
// first, so the attribute goes on whatever takes the focus.
function widgetBox(el, kind) {
  el.classList.add("convlab", "convlab-widget", `convlab-${kind}`);
  el.addEventListener("focusin", (event) => event.target.setAttribute("data-lm-suppress-shortcuts", "true"));
}

// Redraws on any change of these traits; returns what stops it (anywidget calls it when the view goes).
function redrawOn(model, names, draw) {
  for (const name of names) model.on(`change:${name}`, draw);
  return () => { for (const name of names) model.off(`change:${name}`, draw); };
}

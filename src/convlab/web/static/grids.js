// convlab grids: the matrices and their explanations, drawn from an explained convolution (the JSON of
// /api/conv, built by convlab.lesson.explain_cells). The explorer page loads this file before app.js; the
// notebook widgets (convlab.widgets) put it in front of their own code. It reads no ids from a document,
// so any number of playgrounds can share one page.
"use strict";

function number(value) {
  if (value === null || value === undefined) return "";
  const text = Number.isInteger(value) ? String(value) : Number(value.toPrecision(4)).toString();
  return text === "-0" ? "0" : text;
}

function matrixText(matrix) {
  return matrix.map((row) => row.map(number).join(" ")).join("; ");
}

// Large grids get smaller cells, so a 30x30 input still leaves room for the explanation beside it.
function density(columns) { return columns > 20 ? "tiny" : columns > 12 ? "dense" : ""; }

function drawGrid(table, matrix, options = {}) {
  table.replaceChildren();
  table.classList.remove("dense", "tiny");
  const size = density(matrix.length ? matrix[0].length : 0);
  if (size) table.classList.add(size);
  if (options.focusable) table.setAttribute("role", "grid");
  matrix.forEach((row, i) => {
    const tr = document.createElement("tr");
    if (options.focusable) tr.setAttribute("role", "row");
    row.forEach((value, j) => {
      const td = document.createElement("td");
      td.textContent = number(value);
      td.dataset.i = i; td.dataset.j = j;
      if (options.padding) {
        const [[top, bottom], [left, right]] = options.padding;
        if (i < top || i >= matrix.length - bottom || j < left || j >= row.length - right) td.classList.add("pad");
      }
      if (options.focusable) {  // one Tab stop for the whole grid: arrow keys move inside it
        td.setAttribute("role", "gridcell");
        td.tabIndex = i === 0 && j === 0 ? 0 : -1;
        td.setAttribute("aria-label", `out[${i}, ${j}] = ${number(value)}`);
      }
      tr.appendChild(td);
    });
    table.appendChild(tr);
  });
}

// Arrow keys, Home and End move the focus inside an output grid; the focused cell keeps the one Tab stop.
function gridKeys(table, event) {
  const td = event.target.closest("td");
  if (!td) return;
  const rows = table.rows.length, cols = rows ? table.rows[0].cells.length : 0;
  let i = Number(td.dataset.i), j = Number(td.dataset.j);
  const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  if (moves[event.key]) { i += moves[event.key][0]; j += moves[event.key][1]; }
  else if (event.key === "Home") { j = 0; if (event.ctrlKey) i = 0; }
  else if (event.key === "End") { j = cols - 1; if (event.ctrlKey) i = rows - 1; }
  else return;
  event.preventDefault();
  i = Math.max(0, Math.min(rows - 1, i)); j = Math.max(0, Math.min(cols - 1, j));
  focusCell(table, i, j);
}

function focusCell(table, i, j) {
  const target = table.rows[i] && table.rows[i].cells[j];
  if (!target) return;
  for (const cell of table.querySelectorAll("td[tabindex]")) cell.tabIndex = cell === target ? 0 : -1;
  target.focus();
}

// Hovering, focusing or arrowing onto an output value calls explain(i, j).
function explainOnPick(table, explain) {
  const pick = (event) => { const td = event.target.closest("td"); if (td) explain(Number(td.dataset.i), Number(td.dataset.j)); };
  table.addEventListener("mouseover", pick);
  table.addEventListener("focusin", pick);
  table.addEventListener("keydown", (event) => gridKeys(table, event));
}

function highlight(table, rows, cols) {
  const wanted = new Set();
  for (const r of rows) for (const c of cols) wanted.add(`${r},${c}`);
  for (const td of table.querySelectorAll("td")) {
    td.classList.toggle("window", wanted.has(`${td.dataset.i},${td.dataset.j}`));
  }
}

function markCurrent(table, i, j) {
  for (const td of table.querySelectorAll("td")) {
    const current = Number(td.dataset.i) === i && Number(td.dataset.j) === j;
    td.classList.toggle("current", current);
    if (td.hasAttribute("tabindex")) td.tabIndex = current ? 0 : -1;  // Tab comes back to the cell last explained
  }
}

function paragraphs(box, lines) {
  box.replaceChildren(...lines.map((line) => { const p = document.createElement("p"); p.textContent = line; return p; }));
}

function labelled(text, element) {
  const part = document.createElement("div"); part.className = "part";
  const label = document.createElement("span"); label.className = "part-label"; label.textContent = text;
  part.append(label, element);
  return part;
}

// ----- one channel: the window on the padded input, patch x kernel -> sum -------------------------------
// Draws out[i, j] of the first output channel explained; returns false where there is no such value.
// view: { padded, output, where, arithmetic } elements.
function explainValue(answer, view, i, j) {
  const cell = answer.cells[0][i] && answer.cells[0][i][j];
  if (!cell) return false;
  const [top] = answer.padding[0], [left] = answer.padding[1];
  highlight(view.padded, cell.rows, cell.cols);
  markCurrent(view.output, i, j);
  const rows = cell.rows.map((r) => r - top), cols = cell.cols.map((c) => c - left);
  view.where.textContent = `out[${i}, ${j}] reads input rows ${rows.join(", ")} and columns ${cols.join(", ")}`;
  const sums = cell.terms.map((term) => term.equation);
  view.arithmetic.textContent = `${sums.join("  |  ")}   →   out[${i}, ${j}] = ${number(cell.value)}`;
  return true;
}

// ----- several channels: one kernel each, the per-channel sums and the bias adding up -------------------
// Fills box with one figure per input channel (its padded plane and its kernel); returns the planes' tables.
// With an id prefix the tables get ids (prefix + "grid-0", prefix + "kernel-0", ...): the page has one view.
function drawChannelGrids(box, answer, idPrefix = null) {
  box.replaceChildren();
  return answer.padded.map((plane, c) => {
    const figure = document.createElement("figure");
    figure.className = "channel";
    const caption = document.createElement("figcaption");
    caption.textContent = `channel ${c} and its kernel`;
    const grid = document.createElement("table"); grid.className = "grid"; grid.dataset.channel = c;
    grid.setAttribute("aria-label", `input channel ${c}`);
    const kernel = document.createElement("table"); kernel.className = "grid"; kernel.dataset.kernel = c;
    kernel.setAttribute("aria-label", `kernel for channel ${c}`);
    if (idPrefix) { grid.id = `${idPrefix}grid-${c}`; kernel.id = `${idPrefix}kernel-${c}`; }
    drawGrid(grid, plane, { padding: answer.padding });
    drawGrid(kernel, answer.kernel[0][c]);
    figure.append(caption, labelled(`input channel ${c}`, grid), labelled(`kernel for channel ${c}`, kernel));
    box.appendChild(figure);
    return grid;
  });
}

// Draws out[i, j] explained over the channels; view: { planes (tables), output, sum } elements.
function explainChannelValue(answer, view, i, j) {
  const cell = answer.cells[0][i] && answer.cells[0][i][j];
  if (!cell) return false;
  view.planes.forEach((plane) => highlight(plane, cell.rows, cell.cols));
  markCurrent(view.output, i, j);
  const lines = cell.terms.map((term) => `channel ${term.channel}: ${term.equation}`);
  const parts = cell.terms.map((term) => number(term.total));
  if (cell.bias !== null) parts.push(`bias ${number(cell.bias)}`);
  lines.push(`sum over channels: ${parts.join(" + ")} = ${number(cell.value)}`);
  paragraphs(view.sum, lines);
  return true;
}

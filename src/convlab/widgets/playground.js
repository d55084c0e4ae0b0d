// convlab.widgets.Playground: the explorer page's playground in a notebook cell (controls.js in front).

function render({ model, el }) {
  widgetBox(el, "playground");
  const later = debouncer();
  const mode = document.createElement("select");
  for (const name of ["zeros", "reflect", "replicate", "circular"]) { const o = document.createElement("option"); o.textContent = name; mode.appendChild(o); }
  mode.setAttribute("aria-label", "padding mode");
  const controls = document.createElement("div"); controls.className = "controls";
  controls.append(
    control(model, "image", "input (a row a line, or rows separated by ;)", textarea(5, "input matrix"), later),
    control(model, "kernel", "kernel", textarea(3, "kernel matrix"), later),
    control(model, "stride", "stride", text("stride"), later),
    control(model, "padding", "padding (or same, valid)", text("padding"), later),
    control(model, "dilation", "dilation", text("dilation"), later),
    control(model, "padding_mode", "padding mode", mode, (fn) => fn));
  const error = document.createElement("div"); error.className = "error-box"; error.setAttribute("role", "alert");
  const padded = grid("padded input", "padded"), output = grid("output", "output");
  const legend = document.createElement("span"); legend.className = "legend";
  legend.innerHTML = '<span class="swatch pad"></span> padding <span class="swatch win"></span> window';
  const paddedFigure = figure("padded input", padded); paddedFigure.querySelector("figcaption").append(" ", legend);
  const grids = document.createElement("div"); grids.className = "grids";
  grids.append(paddedFigure, figure("output", output, "hover or focus a value"));
  const where = document.createElement("p"), arithmetic = document.createElement("p"), formula = document.createElement("div");
  arithmetic.className = "math arithmetic"; arithmetic.setAttribute("aria-live", "polite"); formula.className = "math formula";
  const explanation = document.createElement("div"); explanation.className = "explanation";
  explanation.append(where, arithmetic, formula);
  const results = document.createElement("div"); results.className = "results";
  results.append(grids, explanation);
  el.append(controls, error, results);

  const view = { padded, output, where, arithmetic };
  let current = [0, 0];
  const draw = () => {
    errorBox(model, error);
    showSettings(model, controls);
    const answer = model.get("answer");
    if (!answer || !answer.output) {  // after an error nothing of the last answer stays, as on the page
      for (const part of [padded, output, where, arithmetic, formula]) part.replaceChildren();
      return;
    }
    drawGrid(padded, answer.padded[0], { padding: answer.padding });
    drawGrid(output, answer.output[0], { focusable: true });
    paragraphs(formula, answer.formula);
    if (!explainValue(answer, view, ...current)) { current = [0, 0]; explainValue(answer, view, 0, 0); }
  };
  explainOnPick(output, (i, j) => { if (explainValue(model.get("answer"), view, i, j)) current = [i, j]; });
  const stop = redrawOn(model, ["answer", "error", "image", "kernel", "stride", "padding", "dilation", "padding_mode"], draw);
  draw();
  return stop;
}

export default { render };

// convlab.widgets.Channels: one kernel per input channel, the per-channel sums and the bias adding up.
// grids.js and controls.js come in front of this file (see assets.py).

function render({ model, el }) {
  widgetBox(el, "channels");
  const later = debouncer();
  const controls = document.createElement("div"); controls.className = "controls";
  controls.append(
    control(model, "image", "input channels, separated by |", textarea(11, "input channels"), later),
    control(model, "kernels", "one kernel per channel, separated by |", textarea(8, "kernels"), later),
    control(model, "bias", "bias", text("bias"), later));
  const error = document.createElement("div"); error.className = "error-box"; error.setAttribute("role", "alert");
  const planesBox = document.createElement("div"); planesBox.className = "channels";
  const output = grid("multi-channel output", "output");
  const sum = document.createElement("div"); sum.className = "math"; sum.setAttribute("aria-live", "polite");
  const explanation = document.createElement("div"); explanation.className = "explanation"; explanation.append(sum);
  const results = document.createElement("div"); results.className = "results";
  results.append(planesBox, figure("output", output, "hover or focus a value"), explanation);
  el.append(controls, error, results);

  let view = { planes: [], output, sum };
  let current = [0, 0];
  const draw = () => {
    errorBox(model, error);
    showSettings(model, controls);
    const answer = model.get("answer");
    if (!answer || !answer.output) {
      for (const part of [planesBox, output, sum]) part.replaceChildren();
      return;
    }
    view = { planes: drawChannelGrids(planesBox, answer), output, sum };
    drawGrid(output, answer.output[0], { focusable: true });
    if (!explainChannelValue(answer, view, ...current)) { current = [0, 0]; explainChannelValue(answer, view, 0, 0); }
  };
  explainOnPick(output, (i, j) => { if (explainChannelValue(model.get("answer"), view, i, j)) current = [i, j]; });
  const stop = redrawOn(model, ["answer", "error", "image", "kernels", "bias"], draw);
  draw();
  return stop;
}

export default { render };

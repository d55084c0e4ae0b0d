// convlab explorer: every number on this page comes from convlab's engine through the JSON API.
// The grids and their explanations are drawn by grids.js, which the notebook widgets share.
"use strict";

const $ = (id) => document.getElementById(id);
let presets = null;
let conv = null;        // the last /api/conv answer of the playground
let channels = null;    // the last /api/conv answer of the channels view
let channelPlanes = [];  // its padded input planes' tables
let playing = null;     // the timer of Play
let position = -1;      // the output position Play/Step is at

async function api(name, body) {
  const response = await fetch(`/api/${name}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) {
    throw new Error(answer.fix ? `${answer.error} (fix: ${answer.fix})` : answer.error);
  }
  return answer;
}

function showError(error) {
  const box = $("error");
  if (error) { box.textContent = error.message || String(error); box.hidden = false; }
  else { box.hidden = true; box.textContent = ""; }
}

// ----- tabs -------------------------------------------------------------------------------------------
// One Tab stop for the tab bar: the selected tab has tabindex 0, the others -1; arrows, Home and End move.
function selectTab(tab) {
  for (const button of document.querySelectorAll('[role="tab"]')) {
    const selected = button === tab;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(button.getAttribute("aria-controls")).hidden = !selected;
  }
}

// After an error nothing of the last answer stays on the page, so no old number reads as the new one's.
function clearResults(ids) {
  for (const id of ids) {
    const element = $(id);
    if (element.tagName === "CANVAS") { element.getContext("2d").clearRect(0, 0, element.width, element.height); element.hidden = true; }
    else element.replaceChildren();
  }
}

// ----- playground -------------------------------------------------------------------------------------
function playgroundRequest() {
  const kind = $("padding-kind").value;
  return {
    input: $("input").value, kernel: $("kernel").value,
    stride: Number($("stride").value), dilation: Number($("dilation").value),
    padding: kind === "number" ? Number($("padding").value) : kind, padding_mode: $("padding-mode").value,
  };
}

async function updatePlayground() {
  document.querySelector(".padding-number").hidden = $("padding-kind").value !== "number";
  try {
    conv = await api("conv", playgroundRequest());
    showError(null);
  } catch (error) {
    conv = null; showError(error);
    clearResults(["padded", "output", "where", "arithmetic", "formula"]);
    return;
  }
  drawGrid($("padded"), conv.padded[0], { padding: conv.padding });
  drawGrid($("output"), conv.output[0], { focusable: true });
  paragraphs($("formula"), conv.formula);
  explainCell(0, 0);
}

function explainCell(i, j) {
  if (!conv) return;
  const view = { padded: $("padded"), output: $("output"), where: $("where"), arithmetic: $("arithmetic") };
  if (explainValue(conv, view, i, j)) position = i * conv.output[0][0].length + j;
}

function step() {
  if (!conv) return;
  const width = conv.output[0][0].length, count = conv.output[0].length * width;
  position = (position + 1) % count;
  explainCell(Math.floor(position / width), position % width);
}

function togglePlay() {
  if (playing) { clearInterval(playing); playing = null; $("play").textContent = "▶ Play"; return; }
  $("play").textContent = "❚❚ Pause";
  playing = setInterval(step, 700);
}

// ----- channels ---------------------------------------------------------------------------------------
async function updateChannels() {
  try {
    channels = await api("conv", { input: $("mc-input").value, kernel: $("mc-kernel").value,
                                   bias: Number($("mc-bias").value) });
    showError(null);
  } catch (error) {
    channels = null; showError(error);
    clearResults(["mc-channels", "mc-output", "mc-sum"]);
    return;
  }
  channelPlanes = drawChannelGrids($("mc-channels"), channels, "mc-");
  drawGrid($("mc-output"), channels.output[0], { focusable: true });
  explainChannels(0, 0);
}

function explainChannels(i, j) {
  if (!channels) return;
  explainChannelValue(channels, { planes: channelPlanes, output: $("mc-output"), sum: $("mc-sum") }, i, j);
}

// ----- image ------------------------------------------------------------------------------------------
let uploaded = null;

function hexColour(hex) { return [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)); }

// The colour of value v on a scale: linear between the PNG colour map's stops, clipped at both ends.
function colourOf(scale, v) {
  const stops = scale.stops, span = scale.high - scale.low || 1;
  const t = Math.max(0, Math.min(1, (v - scale.low) / span)) * (stops.length - 1);
  const k = Math.min(stops.length - 2, Math.floor(t)), f = t - k;
  const a = hexColour(stops[k]), b = hexColour(stops[k + 1]);
  return a.map((x, c) => Math.round(x + (b[c] - x) * f));
}

function paint(canvas, matrix, scale) {
  const height = matrix.length, width = matrix[0].length;
  canvas.width = width; canvas.height = height;
  const context = canvas.getContext("2d"), pixels = context.createImageData(width, height);
  matrix.forEach((row, i) => row.forEach((v, j) => {
    const [r, g, b] = colourOf(scale, v), k = 4 * (i * width + j);
    pixels.data[k] = r; pixels.data[k + 1] = g; pixels.data[k + 2] = b; pixels.data[k + 3] = 255;
  }));
  context.putImageData(pixels, 0, 0);
}

// A colour bar under each map, as in the PNGs: its stops left to right, the values at both ends (and 0 in
// the middle of a diverging scale), an arrow where values go past an end.
function legend(scale) {
  const box = document.createElement("div"); box.className = "colour-legend";
  box.dataset.cmap = scale.cmap; box.dataset.low = scale.low; box.dataset.high = scale.high;
  const bar = document.createElement("span"); bar.className = "bar";
  bar.style.background = `linear-gradient(to right, ${scale.stops.join(", ")})`;
  const ticks = document.createElement("span"); ticks.className = "ticks";
  const values = [scale.low, ...(scale.low < 0 && scale.high > 0 ? [0] : []), scale.high];
  ticks.replaceChildren(...values.map((v, k) => {
    const tick = document.createElement("span");
    const past = (k === 0 && scale.below) ? "< " : (k === values.length - 1 && scale.above) ? "> " : "";
    tick.textContent = past + number(v); return tick;
  }));
  box.setAttribute("role", "img");
  box.setAttribute("aria-label", `colour scale ${scale.cmap} from ${number(scale.low)} to ${number(scale.high)}`);
  box.append(bar, ticks);
  return box;
}

function figureWith(canvas, title, note, scale) {
  const figure = document.createElement("figure");
  const caption = document.createElement("figcaption"); caption.textContent = title;
  const small = document.createElement("small"); small.textContent = note || "";
  figure.append(caption, canvas, legend(scale), small);
  return figure;
}

async function updateImage() {
  const kernels = [...document.querySelectorAll("#kernel-bank input:checked")].map((box) => box.value);
  let answer;
  try {
    answer = await api("features", { image: uploaded || $("image-select").value, kernels });
    showError(null);
  } catch (error) { showError(error); clearResults(["maps"]); return; }
  const maps = $("maps");
  maps.replaceChildren();
  const input = document.createElement("canvas"); paint(input, answer.image, answer.scale);
  const [height, width] = [answer.image.length, answer.image[0].length];
  const size = answer.shrunk
    ? `shrunk from ${answer.original_size[0]} x ${answer.original_size[1]} to ${height} x ${width} grey ` +
      `(this page works on at most ${presets.limits.image_side} pixels a side)`
    : `${height} x ${width} grey`;
  maps.appendChild(figureWith(input, "input", size, answer.scale));
  for (const map of answer.maps) {
    const canvas = document.createElement("canvas"); paint(canvas, map.map, map.scale);
    canvas.dataset.kernel = map.name;
    maps.appendChild(figureWith(canvas, map.name, `${map.note}; kernel ${matrixText(map.kernel)}`, map.scale));
  }
}

// ----- network ----------------------------------------------------------------------------------------
let network = null;
let photo = null;

async function updateNetwork() {
  try {
    network = await api("network", { model: $("model").value, input: $("net-input").value });
    showError(null);
  } catch (error) {
    network = null; showError(error);
    clearResults(["net-table", "problems", "rf-text", "rf-canvas"]);
    return;
  }
  const table = $("net-table");
  table.replaceChildren();
  const head = document.createElement("tr");
  for (const title of ["layer", "kind", "output shape", "params", "MACs", "RF", "jump"]) {
    const th = document.createElement("th"); th.textContent = title; head.appendChild(th);
  }
  table.appendChild(head);
  for (const layer of network.layers) {
    const tr = document.createElement("tr");
    const rf = layer.rf ? layer.rf.map(number).join("x") : "global";
    for (const value of [layer.name, layer.description, `(${layer.output_shape.join(", ")})`,
                         layer.params.toLocaleString("en"), layer.macs.toLocaleString("en"), rf,
                         layer.rf ? layer.jump.map(number).join("x") : "-"]) {
      const td = document.createElement("td"); td.textContent = value; tr.appendChild(td);
    }
    table.appendChild(tr);
  }
  const total = document.createElement("tr");
  total.innerHTML = "<td>total</td><td></td><td></td>";
  for (const value of [network.total_params.toLocaleString("en"), network.total_macs.toLocaleString("en"), "", ""]) {
    const td = document.createElement("td"); td.textContent = value; total.appendChild(td);
  }
  table.appendChild(total);
  const list = $("problems");
  list.replaceChildren(...network.problems.map((problem) => {
    const li = document.createElement("li"); li.className = problem.severity;
    li.textContent = `${problem.severity}: ${problem.line}`; return li;
  }));
  if (!network.problems.length) { const li = document.createElement("li"); li.textContent = "convlab check: no problems"; list.appendChild(li); }
  if (!network.final) {
    clearResults(["rf-canvas"]);
    $("rf-text").textContent = "fix the errors above to see the receptive field";
    return;
  }
  const [, , outH, outW] = network.final.output_shape;
  $("unit-i").max = outH - 1; $("unit-j").max = outW - 1;
  $("unit-i").value = Math.floor(outH / 2); $("unit-j").value = Math.floor(outW / 2);
  await drawField();
}

async function drawField() {
  if (!network || !network.final) return;
  if (!photo) photo = await api("features", { image: "camera", kernels: [] });
  const canvas = $("rf-canvas"), context = canvas.getContext("2d");
  canvas.hidden = false;
  const [, , height, width] = network.input_shape;
  const scratch = document.createElement("canvas"); paint(scratch, photo.image, photo.scale);
  context.imageSmoothingEnabled = true;
  context.drawImage(scratch, 0, 0, canvas.width, canvas.height);
  const final = network.final, i = Number($("unit-i").value), j = Number($("unit-j").value);
  const centre = [final.start[0] + i * final.jump[0], final.start[1] + j * final.jump[1]];
  const half = [(final.rf[0] - 1) / 2, (final.rf[1] - 1) / 2];
  const top = Math.max(0, centre[0] - half[0]), bottom = Math.min(height - 1, centre[0] + half[0]);
  const left = Math.max(0, centre[1] - half[1]), right = Math.min(width - 1, centre[1] + half[1]);
  const sy = canvas.height / height, sx = canvas.width / width;
  context.lineWidth = 3; context.strokeStyle = "#1d2330"; context.setLineDash([6, 3]);
  context.strokeRect(left * sx, top * sy, (right - left + 1) * sx, (bottom - top + 1) * sy);
  context.fillStyle = "rgba(255, 213, 74, 0.35)";
  context.fillRect(left * sx, top * sy, (right - left + 1) * sx, (bottom - top + 1) * sy);
  $("rf-text").textContent = `${final.name}[${i}, ${j}] sees input rows ${Math.ceil(top)}..${Math.floor(bottom)}, ` +
    `cols ${Math.ceil(left)}..${Math.floor(right)} (receptive field ${final.rf.map(number).join("x")}, ` +
    `jump ${final.jump.map(number).join("x")})`;
}

// ----- start --------------------------------------------------------------------------------------------
function debounce(fn, ms = 200) {
  let timer = null;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}

function fillSelect(select, names) {
  for (const name of names) { const option = document.createElement("option"); option.textContent = name; select.appendChild(option); }
}

async function start() {
  presets = await api("presets");
  const inputs = { "Lab 1 (4x4)": presets.labs.manual_conv.image, "Lab 2 edge (5x5)": presets.labs.edge.image,
    "ramp 6x6": [...Array(6)].map((_, i) => [...Array(6)].map((_, j) => i + j)) };
  const kernels = { "Lab 1 [[1, 0], [0, -1]]": presets.labs.manual_conv.kernel, "Lab 2 [-1, 1]": presets.labs.edge.kernel };
  for (const [name, kernel] of Object.entries(presets.kernels)) kernels[name] = kernel.matrix;
  fillSelect($("input-preset"), Object.keys(inputs));
  fillSelect($("kernel-preset"), Object.keys(kernels));
  $("input").value = matrixText(inputs["Lab 1 (4x4)"]);
  $("kernel").value = matrixText(kernels["Lab 1 [[1, 0], [0, -1]]"]);
  $("input-preset").addEventListener("change", () => { $("input").value = matrixText(inputs[$("input-preset").value]); updatePlayground(); });
  $("kernel-preset").addEventListener("change", () => { $("kernel").value = matrixText(kernels[$("kernel-preset").value]); updatePlayground(); });
  const later = debounce(updatePlayground);
  for (const id of ["input", "kernel", "stride", "padding", "dilation"]) $(id).addEventListener("input", later);
  for (const id of ["padding-kind", "padding-mode"]) $(id).addEventListener("change", updatePlayground);
  explainOnPick($("output"), explainCell);
  explainOnPick($("mc-output"), explainChannels);
  $("step").addEventListener("click", step);
  $("play").addEventListener("click", togglePlay);
  const laterChannels = debounce(updateChannels);
  for (const id of ["mc-input", "mc-kernel", "mc-bias"]) $(id).addEventListener("input", laterChannels);

  fillSelect($("image-select"), presets.images);
  for (const name of Object.keys(presets.kernels)) {
    const label = document.createElement("label"), box = document.createElement("input");
    box.type = "checkbox"; box.value = name; box.checked = ["sobel_x", "sobel_y", "gaussian", "laplacian"].includes(name);
    label.append(box, name); $("kernel-bank").appendChild(label);
  }
  $("image-select").addEventListener("change", () => { uploaded = null; updateImage(); });
  $("apply-kernels").addEventListener("click", updateImage);
  $("upload").addEventListener("change", () => {
    const file = $("upload").files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => { uploaded = reader.result; updateImage(); };
    reader.readAsDataURL(file);
  });

  const models = $("model-list");
  for (const [name, shape] of Object.entries(presets.models)) {
    const option = document.createElement("option"); option.value = name; option.label = shape; models.appendChild(option);
  }
  $("model").addEventListener("change", () => { if (presets.models[$("model").value]) $("net-input").value = presets.models[$("model").value]; });
  $("summarize").addEventListener("click", updateNetwork);
  for (const id of ["unit-i", "unit-j"]) $(id).addEventListener("input", drawField);

  const tabs = [...document.querySelectorAll('[role="tab"]')];
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (event) => {
      const targets = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
      if (!(event.key in targets)) return;
      event.preventDefault();
      const next = tabs[(targets[event.key] + tabs.length) % tabs.length];
      selectTab(next); next.focus();
    });
  });
  selectTab(tabs[0]);
  await updatePlayground();
  await updateChannels();
  await updateImage();
  await updateNetwork();
  document.body.dataset.ready = "true";
}

start().catch(showError);

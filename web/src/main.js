// SPDX-License-Identifier: MIT
// The page's controller: shows which service it talks to, sends the sentence to POST /process,
// and hands the answer to the 3-D view, the curvature plot, the legend and the table. The body's
// data-state ("loading", "busy", "ready", "error"), data-placed (the sentence last placed) and
// data-iterations let a test wait for the page and check it without guessing at timings.
import './style.css';
import { getJson, placeText } from './api.js';
import { CurvaturePlot } from './curvature_plot.js';
import { SceneView, webglAvailable } from './scene_view.js';
import { typeColour, typeName } from './types.js';

const $ = (id) => document.getElementById(id);

let view = null;
let plot = null;
let curvatureKind = '';

function setState(state, message = '') {
  document.body.dataset.state = state;
  $('message').textContent = message;
  $('message').className = state === 'error' ? 'error' : '';
  $('place').disabled = state === 'busy';
}

async function describeService() {
  try {
    const [health, info] = await Promise.all([getJson('/health'), getJson('/info')]);
    const m = info.model;
    curvatureKind = m.curvature;
    $('service').textContent =
      `${health.device} · weights ${health.weights.content_sha256.slice(0, 12)} · ` +
      `F=${m.feature_dim} H=${m.hidden_dim} K=${m.max_iterations} · ${m.curvature} curvature · ` +
      `v${health.gasm_gpu_version}`;
    const note = document.createElement('small');
    note.textContent = `${m.curvature} · mean over the graph`;
    $('plot-title').replaceChildren('Curvature per iteration', note);
  } catch (e) {
    $('service').textContent = `service not reachable: ${e.message}`;
  }
}

function showLegend(entities) {
  const legend = $('legend');
  legend.replaceChildren();
  const types = [...new Set(entities.map(typeName))];
  for (const type of types) {
    const item = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = typeColour(type);
    item.append(swatch, type);
    legend.append(item);
  }
}

function showTable(entities) {
  const rows = entities.map((e) => {
    const tr = document.createElement('tr');
    const cells = [e.name, typeName(e), ...[0, 1, 2].map((k) => fixed(e.position[k]))];
    for (const [k, text] of cells.entries()) {
      const td = document.createElement('td');
      td.textContent = text;
      if (k === 1) td.style.color = typeColour(typeName(e));
      tr.append(td);
    }
    return tr;
  });
  $('entities').tBodies[0].replaceChildren(...rows);
}

function fixed(v) {
  return v === undefined ? '–' : v.toFixed(4);
}

function showFacts(scene, answer) {
  const steps = scene.iterations;
  const end = scene.converged ? `converged after ${steps}` : `not converged after ${steps}`;
  const ms = (answer.timings.model_seconds * 1000).toFixed(1);
  $('run-facts').textContent = `${end} iteration${steps === 1 ? '' : 's'} · model ${ms} ms`;
}

function show(answer, text) {
  const scene = answer.scenes[0];
  if (view) view.show(scene.entities, scene.constraints ? scene.constraints.distance : []);
  plot.show(scene.curvature_evolution, curvatureKind ? `mean ${curvatureKind} curvature` : 'mean curvature');
  showLegend(scene.entities);
  showTable(scene.entities);
  showFacts(scene, answer);
  document.body.dataset.placed = text;
  document.body.dataset.iterations = String(scene.iterations);
  const names = scene.entities.map((e) => e.name).join(', ');
  setState('ready', `${scene.entities.length} entities: ${names}`);
}

async function place(event) {
  if (event) event.preventDefault();
  const text = $('text').value.trim();
  if (!text) return setState('error', 'Type a sentence first.');
  setState('busy', 'placing…');
  try {
    show(await placeText(text), text);
  } catch (e) {
    setState('error', e.message);
  }
}

function start() {
  plot = new CurvaturePlot($('plot'));
  if (webglAvailable()) {
    view = new SceneView($('scene'));
  } else {
    $('scene').textContent = 'This browser has no WebGL, so there is no 3-D view; the positions are in the table below.';
    $('scene').classList.add('no-webgl');
  }
  $('ask').addEventListener('submit', place);
  $('text').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey || !e.shiftKey)) place(e);
  });
  describeService().then(() => place());
}

start();

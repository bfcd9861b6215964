// SPDX-License-Identifier: MIT
// The 3-D view of one scene's placed entities, with three.js: a sphere per entity coloured by
// its type, its name beside it (an HTML label, so it stays sharp and selectable), a drop line to
// the floor grid to show height, and a dashed line for each distance the sentence measured.
// OrbitControls turns, zooms and pans with the mouse. The camera is fitted to the scene, since
// the model's coordinates have no fixed scale.
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { CSS2DObject, CSS2DRenderer } from 'three/addons/renderers/CSS2DRenderer.js';
import { typeColour, typeName } from './types.js';

export class SceneView {
  constructor(container) {
    this.container = container;
    this.renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(window.devicePixelRatio);
    this.renderer.setClearColor(0xfafafa);
    container.appendChild(this.renderer.domElement);
    this.labels = new CSS2DRenderer();
    this.labels.domElement.className = 'labels';
    container.appendChild(this.labels.domElement);

    this.scene = new THREE.Scene();
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x888888, 2.0));
    const sun = new THREE.DirectionalLight(0xffffff, 1.5);
    sun.position.set(3, 5, 4);
    this.scene.add(sun);
    this.camera = new THREE.PerspectiveCamera(45, 1, 0.001, 1000);
    this.controls = new OrbitControls(this.camera, this.labels.domElement);
    this.controls.enableDamping = true;
    this.content = new THREE.Group();
    this.scene.add(this.content);

    new ResizeObserver(() => this.fitSize()).observe(container);
    this.fitSize();
    this.renderer.setAnimationLoop(() => this.draw());
  }

  // entities: [{name, type, position: [x, y, z]}]; distances: [[i, j, metres]].
  show(entities, distances) {
    this.clear();
    const points = entities.map((e) => toVector(e.position));
    const bounds = new THREE.Box3().setFromPoints(points);
    const centre = bounds.getCenter(new THREE.Vector3());
    const radius = Math.max(bounds.getSize(new THREE.Vector3()).length() / 2, 1e-3);
    const floorY = bounds.min.y - 0.15 * radius;
    const ball = new THREE.SphereGeometry(0.06 * radius, 32, 16);
    entities.forEach((e, i) => this.addEntity(e, points[i], ball, floorY));
    for (const [i, j, metres] of distances) {
      if (points[i] && points[j]) this.addDistance(points[i], points[j], metres);
    }
    this.addFloor(centre, radius, floorY);
    this.frame(centre, radius);
  }

  addEntity(entity, at, geometry, floorY) {
    const colour = typeColour(typeName(entity));
    const sphere = new THREE.Mesh(
      geometry,
      new THREE.MeshStandardMaterial({ color: colour, roughness: 0.45 }),
    );
    sphere.position.copy(at);
    this.content.add(sphere);
    const drop = [at, new THREE.Vector3(at.x, floorY, at.z)];
    this.content.add(line(drop, new THREE.LineBasicMaterial({ color: 0xbbbbbb })));

    const label = document.createElement('div');
    label.className = 'label';
    label.textContent = entity.name;
    label.style.borderColor = colour;
    const tag = new CSS2DObject(label);
    tag.position.copy(at);
    tag.center.set(-0.12, 1.1);  // up and to the right of the sphere
    this.content.add(tag);
  }

  addDistance(a, b, metres) {
    const dashed = new THREE.LineDashedMaterial({ color: 0x555555, dashSize: 0.02, gapSize: 0.02 });
    const l = line([a, b], dashed);
    l.computeLineDistances();
    this.content.add(l);
    const note = document.createElement('div');
    note.className = 'label measure';
    note.textContent = `${metres.toPrecision(3)} m`;
    const tag = new CSS2DObject(note);
    tag.position.copy(a).lerp(b, 0.5);
    this.content.add(tag);
  }

  // A floor grid under the scene and, at its corner, the axes (x red, y green, z blue) named.
  addFloor(centre, radius, floorY) {
    const half = 1.5 * radius;
    const grid = new THREE.GridHelper(2 * half, 12, 0xcccccc, 0xe4e4e4);
    grid.position.set(centre.x, floorY, centre.z);
    this.content.add(grid);
    const corner = new THREE.Vector3(centre.x - half, floorY, centre.z - half);
    const length = 0.5 * radius;
    const axes = new THREE.AxesHelper(length);
    axes.position.copy(corner);
    this.content.add(axes);
    const ends = { x: [length, 0, 0], y: [0, length, 0], z: [0, 0, length] };
    for (const [name, [dx, dy, dz]] of Object.entries(ends)) {
      const text = document.createElement('div');
      text.className = 'label axis';
      text.textContent = name;
      const tag = new CSS2DObject(text);
      tag.position.set(corner.x + dx * 1.15, corner.y + dy * 1.15, corner.z + dz * 1.15);
      this.content.add(tag);
    }
  }

  frame(centre, radius) {
    const distance = radius / Math.sin((this.camera.fov * Math.PI) / 360) * 1.15;
    const direction = new THREE.Vector3(1, 0.8, 1.4).normalize();
    this.camera.position.copy(centre).addScaledVector(direction, distance);
    this.camera.near = distance / 100;
    this.camera.far = distance * 100;
    this.camera.updateProjectionMatrix();
    this.controls.target.copy(centre);
    this.controls.update();
  }

  clear() {
    for (const child of [...this.content.children]) {
      child.traverse((o) => {
        if (o.element) o.element.remove();  // CSS2D labels own a DOM node
        if (o.geometry) o.geometry.dispose();
        if (o.material) o.material.dispose();
      });
      this.content.remove(child);
    }
  }

  fitSize() {
    const width = Math.max(1, this.container.clientWidth);
    const height = Math.max(1, this.container.clientHeight);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    this.renderer.setSize(width, height);
    this.labels.setSize(width, height);
  }

  draw() {
    this.controls.update();
    this.renderer.render(this.scene, this.camera);
    this.labels.render(this.scene, this.camera);
  }
}

// The model may place entities in D != 3 dimensions: missing axes are 0, extra ones are left out.
function toVector(position) {
  const [x = 0, y = 0, z = 0] = position;
  return new THREE.Vector3(x, y, z);
}

function line(points, material) {
  return new THREE.Line(new THREE.BufferGeometry().setFromPoints(points), material);
}

export function webglAvailable() {
  try {
    const canvas = document.createElement('canvas');
    return Boolean(canvas.getContext('webgl2') || canvas.getContext('webgl'));
  } catch {
    return false;
  }
}

// SPDX-License-Identifier: MIT
// The plot of the curvature per iteration (the scene's curvature_evolution: the mean over the
// graph after each refinement step), drawn with uPlot. It follows the width of its container.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const HEIGHT = 260;

export class CurvaturePlot {
  constructor(container) {
    this.container = container;
    this.plot = null;
    new ResizeObserver(() => this.fitWidth()).observe(container);
  }

  // values: c̄ after iterations 1..k.
  show(values, seriesLabel) {
    const x = values.map((_, i) => i + 1);
    const data = [x, values];
    if (this.plot) this.plot.destroy();
    this.plot = new uPlot(this.options(seriesLabel), data, this.container);
    this.container.dataset.points = String(values.length);  // for tests: what was drawn
  }

  options(seriesLabel) {
    return {
      width: this.width(),
      height: HEIGHT,
      scales: { x: { time: false } },
      legend: { show: false },  // the axes say it; cursor read-outs would only clutter
      cursor: { drag: { x: false, y: false } },
      axes: [
        { label: 'iteration', incrs: [1, 2, 5, 10, 20, 50], grid: { stroke: '#eee' } },
        { label: seriesLabel, size: 70, grid: { stroke: '#eee' } },
      ],
      series: [
        { label: 'iteration' },
        {
          label: seriesLabel,
          stroke: '#0072b2',
          width: 2,
          points: { show: true, size: 7, fill: '#0072b2' },
        },
      ],
    };
  }

  width() {
    return Math.max(240, this.container.clientWidth);
  }

  fitWidth() {
    if (this.plot) this.plot.setSize({ width: this.width(), height: HEIGHT });
  }
}

// Renders a NasActors report model (see RunReport.cs) with ECharts. The same script serves the
// static report (model embedded in the page) and the live dashboard (model pushed as server-sent
// events). Tests read window.nasReport: the chart instances by name and whether rendering finished.
(function () {
  'use strict';
  const state = { charts: {}, ready: false, updates: 0, model: null };
  window.nasReport = state;

  const COLORS = ['#2f6fde', '#e8590c', '#12b76a', '#9e77ed', '#d92d20', '#0e9384', '#c11574', '#667085'];
  const OUTCOME_COLORS = { trained: '#2f6fde', failed: '#d92d20', requeued: '#f79009', running: '#12b76a', unhealthy: '#7a271a', stopped: '#98a2b3', refused: '#c11574' };
  // A cost objective's column in the child table, and how it is said.
  const COSTS = { params: ['params', 'parameters'], mult_adds: ['multAdds', 'mult-adds'], latency_ms: ['latencyMs', 'latency (ms)'] };
  const pct = v => v == null ? '–' : (100 * v).toFixed(2) + '%';
  const num = v => v == null ? '–' : Number(v).toLocaleString('en-US');
  const secs = v => v == null ? '–' : v < 10 ? v.toFixed(2) + ' s' : v < 120 ? v.toFixed(1) + ' s' : v < 7200 ? (v / 60).toFixed(1) + ' min' : (v / 3600).toFixed(2) + ' h';
  const esc = s => String(s).replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

  function el(tag, attrs, html) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (html != null) e.innerHTML = html;
    return e;
  }

  // One chart per name; created once, updated in place on live updates.
  function chart(container, name, cls, option) {
    let node = container.querySelector(`[data-chart="${name}"]`);
    if (!node) {
      node = el('div', { class: 'chart ' + (cls || ''), 'data-chart': name });
      container.appendChild(node);
    }
    let instance = state.charts[name];
    if (!instance) {
      instance = echarts.init(node, null, { renderer: 'canvas' });
      state.charts[name] = instance;
    }
    instance.setOption(option, { notMerge: true });
    return instance;
  }

  // ---- cells: decode CellCode.cs and lay the graph out by depth ----

  function decodeCell(code) {
    const values = part => part.includes('.') ? part.split('.').filter(x => x).map(x => parseInt(x, 36)) : [...part].map(x => parseInt(x, 36));
    const [blocksPart, outPart] = code.split('|');
    const v = values(blocksPart), blocks = [];
    for (let i = 0; i + 4 < v.length; i += 5) blocks.push({ a: v[i], b: v[i + 1], opA: v[i + 2], opB: v[i + 3], combine: v[i + 4] });
    return { blocks, output: values(outPart) };
  }

  const stateName = i => i === 0 ? 'h[i]' : i === 1 ? 'h[i-1]' : 'b' + (i - 2);

  function cellText(code, ops) {
    const cell = decodeCell(code);
    const lines = cell.blocks.map((b, k) => {
      const x = `${ops[b.opA]}(${stateName(b.a)})`, y = `${ops[b.opB]}(${stateName(b.b)})`;
      return `  b${k} = ${b.combine === 0 ? x + ' + ' + y : 'concat(' + x + ', ' + y + ')'}`;
    });
    return lines.join('\n') + `\n  out = concat(${cell.output.map(stateName).join(', ')})`;
  }

  function cellGraph(code, ops) {
    const cell = decodeCell(code);
    const nodes = [], links = [], column = [0, 0], rows = {};
    const place = (id, name, col, category, tip) => {
      rows[col] = (rows[col] || 0) + 1;
      nodes.push({ id, name, x: col * 100, y: rows[col] * 34, category, tip: tip || name });
    };
    place('s0', 'h[i]', 0, 0);
    place('s1', 'h[i-1]', 0, 1);
    cell.blocks.forEach((b, k) => {
      const col = Math.max(column[b.a] ?? 0, column[b.b] ?? 0) + 1;
      place(`b${k}a`, ops[b.opA], col, 2);
      place(`b${k}b`, ops[b.opB], col, 2);
      place(`s${k + 2}`, `b${k} ${b.combine === 0 ? '+' : '⧺'}`, col + 1, 3, `block ${k}: ${b.combine === 0 ? 'add' : 'concat'}`);
      column.push(col + 1);
      links.push({ source: `s${b.a}`, target: `b${k}a` }, { source: `s${b.b}`, target: `b${k}b` },
        { source: `b${k}a`, target: `s${k + 2}` }, { source: `b${k}b`, target: `s${k + 2}` });
    });
    place('out', 'concat', Math.max(...column) + 1, 4, 'output: concat(' + cell.output.map(stateName).join(', ') + ')');
    cell.output.forEach(s => links.push({ source: `s${s}`, target: 'out' }));
    return { nodes, links, columns: Math.max(...column) + 2, rows: Math.max(...Object.values(rows)) };
  }

  // Draws a cell into node, sized to its graph so that labels stay readable.
  function drawCell(node, code, ops, title) {
    const g = cellGraph(code, ops);
    node.style.height = (50 + 34 * g.rows) + 'px';
    node.style.width = (90 + 100 * g.columns) + 'px';
    const instance = echarts.init(node, null, { renderer: 'canvas' });
    instance.setOption(cellOption(g, title));
    return instance;
  }

  function cellOption(g, title) {
    return {
      animation: false,
      title: { text: title, textStyle: { fontSize: 12 }, left: 6, top: 4 },
      tooltip: { formatter: p => p.dataType === 'node' ? esc(p.data.tip) : '' },
      series: [{
        type: 'graph', layout: 'none', roam: false, nodeScaleRatio: 0, top: 38, bottom: 16, left: 50, right: 50,
        symbol: 'roundRect', symbolSize: [84, 22], edgeSymbol: ['none', 'arrow'], edgeSymbolSize: 6,
        label: { show: true, fontSize: 9, color: '#1d2330', overflow: 'truncate', width: 80 },
        lineStyle: { color: '#98a2b3', width: 1, curveness: 0.08 },
        categories: [{ name: 'h[i]' }, { name: 'h[i-1]' }, { name: 'op' }, { name: 'block' }, { name: 'output' }],
        color: ['#b2ccff', '#b2ccff', '#f2f4f7', '#fedf89', '#a6f4c5'],
        data: g.nodes, links: g.links,
      }],
    };
  }

  // ---- views of one run ----

  function sectionFor(root, key, title) {
    let s = root.querySelector(`section[data-view="${key}"]`);
    if (!s) {
      s = el('section', { 'data-view': key });
      s.appendChild(el('h2'));
      root.appendChild(s);
    }
    s.querySelector(':scope > h2').textContent = title;
    return s;
  }

  function body(section) {
    let b = section.querySelector(':scope > .body');
    if (!b) { b = el('div', { class: 'body' }); section.appendChild(b); }
    return b;
  }

  function summary(run) {
    const s = run.summary, c = run.settings;
    const items = [
      ['strategy', s.strategy], ['budget', num(s.budget)], ['completed', num(s.completed)], ['failed', num(s.failed)],
      ['running', num(s.running)], ['best accuracy', pct(s.bestAccuracy)], ['elapsed', secs(s.elapsedS)],
      ['policy version', s.policyVersion], ['final retrained', `${s.finalCompleted} / ${s.finalQueued}`],
      ...(c.earlyStop ? [['stopped early', num(s.stopped)], ['child-epochs', num(s.epochsTrained)]] : []),
      ...(run.objectives ? [['objectives', s.objectives], ['refused over a bound', num(s.refused)], ['hypervolume', s.hypervolume == null ? '-' : s.hypervolume.toFixed(4)],
        ['reference point', s.reference || '-']] : []),
      ['state', s.finished ? 'finished' : run.writing === false ? 'stopped (no search writes it)' : s.searchCompleted ? 'final training' : 'searching'],
    ];
    return `<div class="summary">${items.map(([k, v]) => `<div><span>${k}</span><b>${esc(v)}</b></div>`).join('')}</div>`
      + `<details><summary>settings</summary><pre>${esc(JSON.stringify(c, null, 2))}</pre></details>`;
  }

  function childPoints(run, x) {
    const t = run.children, trained = [], failed = [], stopped = [];
    for (let i = 0; i < t.id.length; i++) {
      const xv = x(t, i);
      if (xv == null) continue;
      if (t.status[i] === 'trained') trained.push([xv, t.accuracy[i], t.id[i], t.params[i]]);
      else if (t.status[i] === 'failed') failed.push([xv, 0, t.id[i], null]);
      else if (t.status[i] === 'stopped') stopped.push([xv, t.rungAccuracy[i], t.id[i], t.stoppedAt[i]]);
    }
    return { trained, failed, stopped };
  }

  const pointTip = p => {
    const [, acc, id, params] = p.data;
    return `child ${id}<br>accuracy ${pct(acc)}${params != null ? '<br>params ' + num(params) : ''}`;
  };

  function accuracyOption(run, byTime) {
    const t = run.children;
    const x = byTime ? (tb, i) => tb.finishedS[i] : (tb, i) => tb.id[i];
    const { trained, failed, stopped } = childPoints(run, x);
    // Large points for a few children, small ones for thousands.
    const size = trained.length < 300 ? 7 : trained.length < 3000 ? 5 : 3;
    const lines = [];
    if (byTime) {
      // Running best in the order results arrived.
      const order = trained.slice().sort((a, b) => a[0] - b[0]);
      let best = -1;
      for (const p of order) if (p[1] > best) { best = p[1]; lines.push([p[0], best]); }
      if (order.length) lines.push([order[order.length - 1][0], best]);
    }
    return {
      animation: false,
      legend: { top: 0 },
      grid: { left: 56, right: 20, top: 34, bottom: 44 },
      tooltip: { trigger: 'item' },
      xAxis: { type: 'value', name: byTime ? 'time since start' : 'child', nameLocation: 'middle', nameGap: 26, min: 'dataMin', axisLabel: { formatter: byTime ? secs : v => v } },
      yAxis: { type: 'value', name: 'validation accuracy', scale: true },
      dataZoom: [{ type: 'inside' }],
      series: [
        { name: 'trained child', type: 'scatter', symbolSize: size, large: trained.length > 4000, data: trained, tooltip: { formatter: pointTip }, itemStyle: { color: COLORS[0], opacity: 0.6 } },
        stopped.length ? { name: 'stopped early (value at its rung)', type: 'scatter', symbol: 'diamond', symbolSize: size, large: stopped.length > 4000, data: stopped,
          tooltip: { formatter: p => `child ${p.data[2]} stopped at epoch ${p.data[3]}<br>accuracy there ${pct(p.data[1])}` }, itemStyle: { color: OUTCOME_COLORS.stopped, opacity: 0.5 } } : null,
        { name: 'failed child', type: 'scatter', symbol: 'triangle', symbolSize: size + 2, data: failed, tooltip: { formatter: p => `child ${p.data[2]} failed` }, itemStyle: { color: '#d92d20' } },
        byTime
          ? { name: 'running best', type: 'line', step: 'end', showSymbol: false, silent: true, data: lines, lineStyle: { color: COLORS[1] }, tooltip: { show: false } }
          : { name: 'running best', type: 'line', showSymbol: false, silent: true, data: t.id.map((id, i) => [id, t.runningBest[i]]), lineStyle: { color: COLORS[1] }, tooltip: { show: false } },
        byTime ? null : { name: `moving mean (${run.movingWindow})`, type: 'line', showSymbol: false, silent: true, data: t.id.map((id, i) => [id, t.movingMean[i]]), lineStyle: { color: COLORS[2] }, tooltip: { show: false } },
      ].filter(Boolean),
    };
  }

  function policyOption(run) {
    const p = run.policy;
    return {
      animation: false, legend: { top: 0 }, tooltip: { trigger: 'axis' },
      grid: { left: 56, right: 60, top: 34, bottom: 44 },
      xAxis: { type: 'category', name: 'policy version', nameLocation: 'middle', nameGap: 26, data: p.map(v => v.version) },
      yAxis: [{ type: 'value', name: 'mean reward', scale: true }, { type: 'value', name: 'entropy (nats)', scale: true }],
      series: [
        { name: 'mean reward', type: 'line', data: p.map(v => v.meanReward) },
        { name: 'policy entropy (mean −log p)', type: 'line', yAxisIndex: 1, data: p.map(v => v.entropyEstimate) },
      ],
    };
  }

  function paretoOption(run) {
    const t = run.children, index = new Map(t.id.map((id, i) => [id, i]));
    const pts = [];
    for (let i = 0; i < t.id.length; i++) if (t.status[i] === 'trained') pts.push([t.params[i], t.accuracy[i], t.id[i], t.params[i], t.multAdds[i]]);
    const front = run.paretoFront.map(id => { const i = index.get(id); return [t.params[i], t.accuracy[i], id, t.params[i], t.multAdds[i]]; });
    const tip = p => `child ${p.data[2]}<br>accuracy ${pct(p.data[1])}<br>params ${num(p.data[3])}<br>mult-adds ${num(p.data[4])}`;
    return {
      animation: false, legend: { top: 0 }, tooltip: { trigger: 'item', formatter: tip },
      grid: { left: 56, right: 20, top: 34, bottom: 44 },
      // Log scale where every size is known (a synthetic trainer reports none).
      xAxis: { type: pts.every(p => p[0] > 0) && pts.length ? 'log' : 'value', name: 'parameters', nameLocation: 'middle', nameGap: 26, scale: true },
      yAxis: { type: 'value', name: 'validation accuracy', scale: true },
      series: [
        { name: 'trained child', type: 'scatter', symbolSize: pts.length < 300 ? 7 : pts.length < 3000 ? 5 : 3, large: pts.length > 4000, data: pts, itemStyle: { color: COLORS[0], opacity: 0.5 } },
        { name: 'Pareto front', type: 'line', step: 'end', data: front, symbolSize: 6, itemStyle: { color: COLORS[1] } },
      ],
    };
  }

  // Accuracy against one cost: every trained child, the front (non-dominated in all the run's objectives), the refused ones at 0 and the bound.
  function costOption(run, cost) {
    const t = run.children, o = run.objectives, [column, label] = COSTS[cost], col = t[column] || [];
    const front = new Set(o.front), trained = [], best = [], refused = [];
    for (let i = 0; i < t.id.length; i++) {
      if (col[i] == null) continue;
      const p = [col[i], t.status[i] === 'refused' ? 0 : t.accuracy[i], t.id[i], t.params[i], t.multAdds[i], t.latencyMs ? t.latencyMs[i] : null];
      if (t.status[i] === 'refused') refused.push(p);
      else if (t.status[i] === 'trained') (front.has(t.id[i]) ? best : trained).push(p);
    }
    best.sort((a, b) => a[0] - b[0]);
    const tip = p => `child ${p.data[2]}${p.seriesName.startsWith('refused') ? ' (refused, untrained)' : `<br>accuracy ${pct(p.data[1])}`}<br>params ${num(p.data[3])}`
      + `<br>mult-adds ${num(p.data[4])}${p.data[5] != null ? `<br>latency ${p.data[5].toFixed(3)} ms` : ''}`;
    const bound = o.bounds[cost];
    return {
      animation: false, legend: { top: 0 }, tooltip: { trigger: 'item', formatter: tip },
      title: { text: `accuracy against ${label}${cost === 'latency_ms' && o.latencyDevice ? ` on ${o.latencyDevice}` : ''}`, textStyle: { fontSize: 12 }, left: 'right', top: 22 },
      grid: { left: 56, right: 20, top: 50, bottom: 44 },
      xAxis: { type: 'value', name: label, nameLocation: 'middle', nameGap: 26, scale: true },
      yAxis: { type: 'value', name: 'validation accuracy', scale: true },
      series: [
        { name: 'trained child', type: 'scatter', symbolSize: 6, large: trained.length > 4000, data: trained, itemStyle: { color: COLORS[0], opacity: 0.45 } },
        { name: 'on the front', type: 'scatter', symbolSize: 8, data: best, itemStyle: { color: COLORS[1] },
          markLine: bound == null ? undefined : { symbol: 'none', label: { formatter: `bound ${num(bound)}` }, lineStyle: { color: OUTCOME_COLORS.refused, type: 'dashed' }, data: [{ xAxis: bound }] } },
        { name: 'refused (over a bound)', type: 'scatter', symbol: 'triangle', symbolSize: 6, data: refused, itemStyle: { color: OUTCOME_COLORS.refused, opacity: 0.6 } },
      ],
    };
  }

  function hypervolumeOption(run, byTime) {
    const o = run.objectives, x = byTime ? o.hypervolumeS : o.hypervolumeChildren;
    return {
      animation: false, tooltip: { trigger: 'axis' },
      title: { text: `hypervolume against ${byTime ? 'wall time' : 'children'} (reference: ${run.summary.reference || '-'})`, textStyle: { fontSize: 12 }, left: 'right', top: 0 },
      grid: { left: 56, right: 20, top: 30, bottom: 44 },
      xAxis: { type: 'value', name: byTime ? 'seconds since start' : 'children with an outcome', nameLocation: 'middle', nameGap: 26, min: 0 },
      yAxis: { type: 'value', name: 'hypervolume', scale: true },
      series: [{ name: 'hypervolume', type: 'line', step: 'end', symbol: 'none', data: x.map((v, i) => [v, o.hypervolume[i]]), itemStyle: { color: COLORS[2] } }],
    };
  }

  function usageOption(names, all, top, topCount, title) {
    return {
      animation: false, legend: { top: 0 }, tooltip: { trigger: 'axis', valueFormatter: v => pct(v) },
      title: { text: title, textStyle: { fontSize: 12 }, left: 'right', top: 0 },
      grid: { left: 56, right: 16, top: 40, bottom: 86 },
      xAxis: { type: 'category', data: names, axisLabel: { rotate: 40, fontSize: 10 } },
      yAxis: { type: 'value', axisLabel: { formatter: v => (100 * v).toFixed(0) + '%' } },
      series: [
        { name: 'all trained children', type: 'bar', data: all, itemStyle: { color: '#98a2b3' } },
        { name: `best 10% (${topCount})`, type: 'bar', data: top, itemStyle: { color: COLORS[0] } },
      ],
    };
  }

  // A search child's latency, measured on its worker before it trained (or was refused).
  function latencyOf(run, id, final) {
    const t = run.children;
    if (final || !t.latencyMs) return '';
    const i = t.id.indexOf(id);
    return i >= 0 && t.latencyMs[i] != null ? `<br>latency measured: ${t.latencyMs[i].toFixed(3)} ms${run.objectives && run.objectives.latencyDevice ? ` on ${esc(run.objectives.latencyDevice)}` : ''}` : '';
  }

  function timelineOption(run) {
    const s = run.timeline;
    const data = s.worker.map((w, i) => ({
      value: [w, s.startS[i], s.endS[i] ?? run.summary.elapsedS, s.childId[i], s.final[i], s.outcome[i], s.resumedEpochs[i]],
      itemStyle: { color: OUTCOME_COLORS[s.outcome[i]] || '#667085' },
    })).concat(run.unhealthy.map(h => ({
      // A device found computing wrong: a dark bar over the time it took no work.
      value: [h.worker, h.startS, h.endS ?? run.summary.elapsedS, null, false, 'unhealthy', h.reason],
      itemStyle: { color: OUTCOME_COLORS.unhealthy, opacity: 0.55 },
    })));
    return {
      animation: false, tooltip: {
        formatter: p => p.value[5] === 'unhealthy'
          ? `${esc(run.workers[p.value[0]])}<br>device unhealthy: ${esc(p.value[6])}<br>${secs(p.value[1])} → ${secs(p.value[2])}`
          : `${esc(run.workers[p.value[0]])}<br>child ${p.value[3]}${p.value[4] ? ' (final)' : ''}: ${p.value[5]}`
            + `${p.value[6] ? `, resumed from its checkpoint after epoch ${p.value[6]}` : ''}${latencyOf(run, p.value[3], p.value[4])}<br>${secs(p.value[1])} → ${secs(p.value[2])}`,
      },
      grid: { left: 150, right: 20, top: 10, bottom: 44 },
      dataZoom: [{ type: 'inside', filterMode: 'weakFilter' }],
      xAxis: { type: 'value', name: 'seconds since start', nameLocation: 'middle', nameGap: 26, min: 0 },
      yAxis: { type: 'category', data: run.workers, axisLabel: { fontSize: 10 } },
      series: [{
        type: 'custom', encode: { x: [1, 2], y: 0 }, data,
        renderItem: (params, api) => {
          const y = api.value(0), a = api.coord([api.value(1), y]), b = api.coord([api.value(2), y]);
          const h = api.size([0, 1])[1] * 0.6;
          const shape = echarts.graphic.clipRectByRect({ x: a[0], y: a[1] - h / 2, width: Math.max(1, b[0] - a[0]), height: h },
            { x: params.coordSys.x, y: params.coordSys.y, width: params.coordSys.width, height: params.coordSys.height });
          return shape && { type: 'rect', transition: [], shape, style: api.style() };
        },
      }],
    };
  }

  function topTable(run, ops, container) {
    if (!run.top.length) {
      container.innerHTML = `<p class="empty">${run.summary.completed || !run.summary.searchCompleted ? 'No child has trained yet.' : 'No child trained: every one failed (see the failures below).'}</p>`;
      return;
    }
    const table = container.querySelector('table') || container.appendChild(el('table', { class: 'top-table' },
      '<thead><tr><th>rank</th><th>child</th><th>accuracy</th><th>final val / test</th><th>params</th><th>cells</th></tr></thead><tbody></tbody>'));
    const tbody = table.querySelector('tbody');
    const key = run.top.map(c => c.childId + ':' + c.finalAccuracy + ':' + c.finalTestAccuracy).join(',');
    if (tbody.dataset.key === key) return;
    tbody.dataset.key = key;
    for (const name of Object.keys(state.charts)) if (name.startsWith(`cell:${run.name}:`)) { state.charts[name].dispose(); delete state.charts[name]; }
    tbody.innerHTML = '';
    for (const c of run.top) {
      const tr = el('tr', { class: 'top-row', 'data-child': c.childId },
        `<td>${c.rank}</td><td>${c.childId}</td><td class="num">${pct(c.accuracy)}</td><td class="num">${pct(c.finalAccuracy)} / ${pct(c.finalTestAccuracy)}`
        + `${c.weights ? `<div class="weights" title="kept by ${esc(c.weightsWorker)}">weights: ${esc(c.weights)}</div>` : ''}</td>`
        + `<td class="num">${num(c.params)}</td><td class="cells"><div class="cells-pair"></div><details><summary>genotype</summary><pre class="genotype">${esc(c.text)}</pre></details></td>`);
      tbody.appendChild(tr);
      const pair = tr.querySelector('.cells-pair');
      for (const [kind, code] of [['normal', c.normal], ['reduction', c.reduction]]) {
        const node = pair.appendChild(el('div', { class: 'cell', 'data-cell': kind, 'data-child': c.childId }));
        state.charts[`cell:${run.name}:${c.childId}:${kind}`] = drawCell(node, code, ops, `${kind} cell`);
      }
    }
  }

  function showChild(run, ops, id) {
    const t = run.children, i = t.id.indexOf(id);
    if (i < 0) return;
    const panel = document.getElementById('child-panel');
    panel.hidden = false;
    panel.innerHTML = `<button type="button">close</button><b>child ${id}</b> · ${esc(t.status[i])} · accuracy ${pct(t.accuracy[i])} · params ${num(t.params[i])} · policy v${t.policyVersion[i]}`
      + '<div class="cells-pair"><div class="cell" data-panel="normal"></div><div class="cell" data-panel="reduction"></div></div>'
      + `<details><summary>genotype</summary><pre class="genotype">normal:\n${esc(cellText(t.normal[i], ops))}\nreduction:\n${esc(cellText(t.reduction[i], ops))}</pre></details>`;
    panel.querySelector('button').onclick = () => { panel.hidden = true; };
    for (const kind of ['normal', 'reduction']) {
      drawCell(panel.querySelector(`[data-panel="${kind}"]`), kind === 'normal' ? t.normal[i] : t.reduction[i], ops, `${kind} cell of child ${id}`);
    }
  }

  function failuresTable(run) {
    if (!run.failures.length) return '<p class="empty">No child failed.</p>';
    return '<table><thead><tr><th>count</th><th>reason</th><th>children</th></tr></thead><tbody>'
      + run.failures.map(f => `<tr><td class="num">${f.count}</td><td>${esc(f.reason)}${f.example !== f.reason ? `<details><summary>first in full</summary><pre>${esc(f.example)}</pre></details>` : ''}</td><td>${f.childIds.join(', ')}${f.count > f.childIds.length ? ', …' : ''}</td></tr>`).join('')
      + '</tbody></table>';
  }

  function unhealthyTable(run) {
    return '<table data-table="unhealthy"><thead><tr><th>worker</th><th>from</th><th>to</th><th>what its check found</th></tr></thead><tbody>'
      + run.unhealthy.map(h => `<tr><td>${esc(run.workers[h.worker])}</td><td class="num">${secs(h.startS)}</td>`
        + `<td class="num">${h.endS == null ? 'still unhealthy' : secs(h.endS)}</td><td>${esc(h.reason)}</td></tr>`).join('')
      + '</tbody></table>';
  }

  // Per rung: the values recorded (box: quartiles, whiskers: min and max) and the cut a child must reach there now.
  function rungOption(run) {
    const r = run.rungs, names = r.map(v => `${run.settings.earlyStop.brackets > 1 ? 'b' + v.bracket + ' ' : ''}epoch ${v.epoch}`);
    return {
      animation: false, legend: { top: 0 }, tooltip: { trigger: 'item' },
      grid: { left: 56, right: 20, top: 34, bottom: 44 },
      xAxis: { type: 'category', data: names, name: 'rung', nameLocation: 'middle', nameGap: 26 },
      yAxis: { type: 'value', name: 'validation accuracy', scale: true },
      series: [
        { name: 'values recorded', type: 'boxplot', data: r.map(v => [v.values.min, v.values.q1, v.values.median, v.values.q3, v.values.max]),
          tooltip: { formatter: p => `${names[p.dataIndex]}: ${r[p.dataIndex].values.count} values, ${r[p.dataIndex].stopped} stopped<br>median ${pct(r[p.dataIndex].values.median)}` } },
        { name: 'cut now', type: 'scatter', symbol: 'rect', symbolSize: [26, 3], data: r.map((v, i) => v.cut == null ? null : [i, v.cut]).filter(Boolean),
          tooltip: { formatter: p => `go on from ${pct(p.data[1])}` }, itemStyle: { color: COLORS[4] } },
      ],
    };
  }

  function rungTable(run) {
    return '<table data-table="rungs"><thead><tr><th>bracket</th><th>epoch</th><th>values</th><th>median</th><th>cut now</th><th>stopped there</th></tr></thead><tbody>'
      + run.rungs.map(v => `<tr><td class="num">${v.bracket}</td><td class="num">${v.epoch}</td><td class="num">${num(v.values.count)}</td><td class="num">${pct(v.values.median)}</td>`
        + `<td class="num">${v.cut == null ? 'none yet' : pct(v.cut)}</td><td>${v.stopped}${v.stopped ? ': ' + v.stoppedChildren.join(', ') + (v.stopped > v.stoppedChildren.length ? ', …' : '') : ''}</td></tr>`).join('')
      + '</tbody></table>';
  }

  function runningTable(run) {
    if (!run.running.length) return '<p class="empty">Nothing is training now.</p>';
    return '<table data-table="running"><thead><tr><th>worker</th><th>child</th><th>training for</th><th>epoch</th></tr></thead><tbody>'
      + run.running.map(r => {
        const p = r.epochs ? `<span class="progress"><i style="width:${(100 * r.epoch / r.epochs).toFixed(0)}%"></i></span> ${r.epoch} / ${r.epochs}` : '–';
        return `<tr><td>${esc(r.worker)}</td><td>${r.childId}${r.final ? ' (final)' : ''}</td><td class="num">${secs(Math.max(0, run.summary.elapsedS - r.sinceS))}</td><td>${p}</td></tr>`;
      }).join('') + '</tbody></table>';
  }

  function renderRun(main, run, index, ops, several) {
    let root = main.querySelector(`[data-run="${CSS.escape(run.name)}"]`);
    if (!root) {
      root = el('div', { 'data-run': run.name });
      if (several) root.appendChild(el('h2', { class: 'run-title' }, esc(run.name)));
      main.appendChild(root);
    }
    const id = `${index}`;
    body(sectionFor(root, 'summary', 'Summary')).innerHTML = summary(run);
    if (state.model.live) {
      body(sectionFor(root, 'running', run.writing === false ? 'Was training when the search stopped' : 'Training now')).innerHTML = runningTable(run);
    }

    const acc = body(sectionFor(root, 'accuracy', 'Accuracy of every child (click a point for its cells)'));
    acc.classList.add('grid2');
    for (const [name, byTime] of [[`accuracy-index:${id}`, false], [`accuracy-time:${id}`, true]]) {
      const c = chart(acc, name, '', accuracyOption(run, byTime));
      c.off('click');
      c.on('click', p => { if (p.data && p.data[2] != null) showChild(run, ops, p.data[2]); });
    }
    const learn = body(sectionFor(root, 'learning', 'Controller learning and the size/accuracy trade-off'));
    learn.classList.add('grid2');
    chart(learn, `policy:${id}`, '', policyOption(run));
    const pareto = chart(learn, `pareto:${id}`, '', paretoOption(run));
    pareto.off('click');
    pareto.on('click', p => { if (p.data && p.data[2] != null) showChild(run, ops, p.data[2]); });
    if (run.objectives) {
      const o = run.objectives;
      const front = body(sectionFor(root, 'objectives',
        `Objectives: accuracy against ${o.costs.map(c => COSTS[c][1]).join(', ')}; ${o.front.length} on the front, ${num(run.summary.refused)} refused over a bound`));
      front.classList.add('grid2');
      for (const cost of o.costs) {
        const c = chart(front, `cost-${cost}:${id}`, '', costOption(run, cost));
        c.off('click');
        c.on('click', p => { if (p.data && p.data[2] != null) showChild(run, ops, p.data[2]); });
      }
      chart(front, `hypervolume-children:${id}`, '', hypervolumeOption(run, false));
      chart(front, `hypervolume-time:${id}`, '', hypervolumeOption(run, true));
    }

    const usage = body(sectionFor(root, 'usage', 'What the search learned: ops and inputs in the best 10% against all'));
    usage.classList.add('grid2');
    chart(usage, `ops-normal:${id}`, 'small', usageOption(run.normalUsage.ops, run.normalUsage.opAll, run.normalUsage.opTop, run.normalUsage.topCount, 'normal cell: ops'));
    chart(usage, `ops-reduction:${id}`, 'small', usageOption(run.reductionUsage.ops, run.reductionUsage.opAll, run.reductionUsage.opTop, run.reductionUsage.topCount, 'reduction cell: ops'));
    chart(usage, `inputs-normal:${id}`, 'small', usageOption(run.normalUsage.inputs, run.normalUsage.inputAll, run.normalUsage.inputTop, run.normalUsage.topCount, 'normal cell: inputs'));
    chart(usage, `inputs-reduction:${id}`, 'small', usageOption(run.reductionUsage.inputs, run.reductionUsage.inputAll, run.reductionUsage.inputTop, run.reductionUsage.topCount, 'reduction cell: inputs'));

    if (run.settings.earlyStop) {
      const rungs = body(sectionFor(root, 'rungs', `Early stopping: ${run.summary.stopped} stopped, ${num(run.summary.epochsTrained)} child-epochs trained`));
      if (run.rungs.length) {
        chart(rungs, `rungs:${id}`, '', rungOption(run));
        let t = rungs.querySelector('[data-rung-table]');
        if (!t) { t = el('div', { 'data-rung-table': '' }); rungs.appendChild(t); }
        t.innerHTML = rungTable(run);
      } else rungs.innerHTML = '<p class="empty">No child has reached a rung yet.</p>';
    }
    topTable(run, ops, body(sectionFor(root, 'top', run.top.length ? `Top ${run.top.length} children` : 'Top children')));
    chart(body(sectionFor(root, 'timeline', 'Workers: who trained which child when (gaps are idle time)')), `timeline:${id}`, 'timeline', timelineOption(run));
    if (run.unhealthy.length) {
      body(sectionFor(root, 'unhealthy', 'Devices found computing wrong (no work, no reward meanwhile)')).innerHTML = unhealthyTable(run);
    }
    body(sectionFor(root, 'failures', 'Failures by reason')).innerHTML = failuresTable(run);
  }

  function renderComparison(main, runs) {
    const root = main.querySelector('[data-run="__compare"]') || main.insertBefore(el('div', { 'data-run': '__compare' }), main.firstChild);
    const s = body(sectionFor(root, 'compare', `Runs side by side: ${runs.map(r => r.name).join(', ')}`));
    s.classList.add('grid2');
    const line = (key, title) => ({
      animation: false, legend: { top: 0 }, tooltip: { trigger: 'axis' },
      title: { text: title, textStyle: { fontSize: 12 }, left: 'right', top: 22 },
      grid: { left: 56, right: 20, top: 50, bottom: 44 },
      xAxis: { type: 'value', name: 'child', nameLocation: 'middle', nameGap: 26 },
      yAxis: { type: 'value', scale: true },
      series: runs.map((r, i) => ({ name: r.name, type: 'line', showSymbol: false, data: r.children.id.map((id, j) => [id, r.children[key][j]]), lineStyle: { color: COLORS[i % COLORS.length] }, itemStyle: { color: COLORS[i % COLORS.length] } })),
    });
    chart(s, 'compare-best', '', line('runningBest', 'running best'));
    chart(s, 'compare-mean', '', line('movingMean', 'moving mean'));
    const withTop = runs.filter(r => r.topAccuracies);
    chart(s, 'compare-top', '', {
      animation: false, tooltip: { trigger: 'item' },
      title: { text: 'accuracy of each run\'s best 10%', textStyle: { fontSize: 12 }, left: 'right' },
      grid: { left: 56, right: 20, top: 34, bottom: 44 },
      xAxis: { type: 'category', data: withTop.map(r => r.name) },
      yAxis: { type: 'value', scale: true },
      series: [{ type: 'boxplot', data: withTop.map((r, i) => ({ value: [r.topAccuracies.min, r.topAccuracies.q1, r.topAccuracies.median, r.topAccuracies.q3, r.topAccuracies.max], itemStyle: { borderColor: COLORS[runs.indexOf(r) % COLORS.length] } })) }],
    });
  }

  function render(model) {
    state.model = model;
    const main = document.getElementById('report');
    const waiting = document.getElementById('waiting');
    if (waiting) waiting.remove();
    document.getElementById('generated').textContent = (model.live ? 'updated ' : 'generated ') + new Date(model.generatedAt).toLocaleString();
    if (model.runs.length > 1) renderComparison(main, model.runs);
    model.runs.forEach((run, i) => renderRun(main, run, i, model.opNames, model.runs.length > 1));
    state.updates++;
    state.ready = true;
  }

  function fail(message) {
    const main = document.getElementById('report');
    main.insertBefore(el('p', { class: 'empty' }, esc(message)), main.firstChild);
  }

  window.addEventListener('resize', () => Object.values(state.charts).forEach(c => c.resize()));
  const embedded = JSON.parse(document.getElementById('nas-model').textContent);
  if (embedded) {
    render(embedded);
  } else {
    // Live: the dashboard pushes the whole model whenever the journal moved.
    const live = document.getElementById('live-state');
    const source = new EventSource('api/events');
    source.addEventListener('model', e => { render(JSON.parse(e.data)); live.textContent = 'live'; live.className = 'on'; });
    source.addEventListener('problem', e => fail(JSON.parse(e.data).message));
    source.onerror = () => { live.textContent = 'reconnecting…'; live.className = ''; };
  }
})();

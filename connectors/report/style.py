"""The report page's stylesheet, inline: the page is one file that shows the same offline."""

from __future__ import annotations

CSS = """
:root { color-scheme: light; --ink: #1f2933; --dim: #7b8794; --line: #d9e2ec;
  --ok: #1f7a4d; --bad: #b42318; --warn: #a15c07; --tile: #f5f7fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); margin: 0 auto; padding: 24px; max-width: 1200px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.meta { color: var(--dim); margin: 0 0 12px; overflow-wrap: anywhere; }
section.stream { border-top: 2px solid var(--line); }
table { border-collapse: collapse; margin: 4px 0 8px; }
caption { caption-side: bottom; text-align: left; color: var(--dim); padding-top: 4px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left;
  vertical-align: top; }
th { font-weight: 600; background: var(--tile); }
td { overflow-wrap: break-word; }
.num { font-variant-numeric: tabular-nums; display: block; text-align: right; }
.status { border-radius: 10px; padding: 1px 8px; font-size: 12px; color: #fff; font-weight: 600;
  background: var(--dim); vertical-align: middle; }
.status.ok { background: var(--ok); }
.status.failed { background: var(--bad); }
.passed { color: var(--ok); font-weight: 600; }
.failed-rule { color: var(--bad); font-weight: 600; }
.not-run { color: var(--dim); font-style: italic; }
.none { color: var(--dim); }
pre { margin: 2px 0 6px; padding: 6px 8px; background: var(--tile); border-radius: 4px;
  white-space: pre-wrap; overflow-wrap: anywhere; font-size: 12px; max-width: 640px; }
pre.error { color: var(--bad); border-left: 3px solid var(--bad); max-width: none; }
dl.counts { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; }
.tile { background: var(--tile); border-radius: 6px; padding: 6px 14px; min-width: 110px; }
.tile dt { color: var(--dim); font-size: 12px; }
.tile dd { margin: 0; font-size: 20px; font-variant-numeric: tabular-nums; }
.tile.rejected dd { color: var(--warn); }
.sample .at { color: var(--dim); }
.sample .why { font-style: italic; }
.bar { width: 240px; height: 10px; background: var(--tile); border-radius: 5px; }
.bar > div { height: 100%; background: #3e7cb1; border-radius: 5px; }
figure { margin: 8px 0; overflow-x: auto; }
figcaption { color: var(--dim); }
svg.lineage text { font: 12px system-ui, sans-serif; fill: var(--ink); }
svg.lineage text.heading { font-weight: 600; fill: var(--dim); }
svg.lineage .node rect { fill: #e6f0fa; stroke: #3e7cb1; }
svg.lineage .node.dropped rect { fill: var(--tile); stroke: var(--line); }
svg.lineage .node.dropped text { fill: var(--dim); text-decoration: line-through; }
svg.lineage .edge path { fill: none; stroke: #3e7cb1; stroke-width: 1.5; }
svg.lineage .edge text { font-size: 11px; fill: #334e68; stroke: #fff; stroke-width: 3px;
  paint-order: stroke; }
"""

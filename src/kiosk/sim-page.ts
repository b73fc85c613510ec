// A plain page to press the simulated buttons by hand in the demo.
export const SIM_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sim controls</title>
<style>body{font:16px system-ui;margin:2em}button{font-size:1.2em;margin:.3em;padding:.6em 1em}
.on{background:#fc3}.out span{display:inline-block;margin:.3em;padding:.3em .6em;border:1px solid #999}
.out span.on{background:#6c6}</style></head><body>
<h1>Simulated hardware</h1>
<div id="inputs"></div><h2>Outputs</h2><div class="out" id="outputs"></div>
<h2>Supervision</h2><button onclick="post('/sim/acoustic',{broken:true})">break acoustic loop</button><button onclick="post('/sim/acoustic',{broken:false})">mend acoustic loop</button>
<button onclick="fetch('/supervision/test',{method:'POST'}).then(r=>r.json()).then(t=>document.getElementById('verdict').textContent=JSON.stringify(t,null,1))">run a test now</button><pre id="verdict"></pre>
<script>
async function post(p,b){await fetch(p,{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(b)});refresh();}
async function refresh(){const s=await (await fetch('/sim/state')).json();
 const i=document.getElementById('inputs');i.innerHTML='';
 for(const [n,v] of Object.entries(s.inputs)){const b=document.createElement('button');b.textContent=(v?'release ':'press ')+n;b.className=v?'on':'';
  b.onclick=()=>post('/sim/input',{input:n,active:!v});i.appendChild(b);
  const q=document.createElement('button');q.textContent='tap '+n;q.onclick=()=>post('/sim/press',{input:n,ms:150});i.appendChild(q);i.appendChild(document.createElement('br'));}
 const o=document.getElementById('outputs');o.innerHTML='';
 for(const [n,v] of Object.entries(s.outputs)){const e=document.createElement('span');e.textContent=n;e.className=v?'on':'';o.appendChild(e);}}
refresh();setInterval(refresh,500);
</script></body></html>`;

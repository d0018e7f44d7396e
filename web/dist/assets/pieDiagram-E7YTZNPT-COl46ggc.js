import{t as e}from"./chunk-JWPE2WC7-BKZHjy0n.js";import{Et as t,Ft as n,Gt as r,It as i,Jt as a,Kt as o,Mt as s,Nt as c,P as l,R as u,St as d,an as f,jt as p,kt as m,sn as h,vt as g,yt as _}from"./mermaid.core-x6bqep8S.js";import{n as v}from"./mermaid-parser.core-XXDRpH9A.js";import{r as y}from"./d3-scale-okpWUcMn.js";var b=p.pie,x={sections:new Map,showData:!1,config:b},S=x.sections,C=x.showData,w=structuredClone(b),T={getConfig:h(()=>structuredClone(w),`getConfig`),clear:h(()=>{S=new Map,C=x.showData,t()},`clear`),setDiagramTitle:a,getDiagramTitle:i,setAccTitle:o,getAccTitle:c,setAccDescription:r,getAccDescription:s,addSection:h(({label:e,value:t})=>{if(t<0)throw Error(`"${e}" has invalid value: ${t}. Negative values are not allowed in pie charts. All slice values must be >= 0.`);S.has(e)||(S.set(e,t),f.debug(`added new section: ${e}, with value: ${t}`))},`addSection`),getSections:h(()=>S,`getSections`),setShowData:h(e=>{C=e},`setShowData`),getShowData:h(()=>C,`getShowData`)},E=h((t,n)=>{e(t,n),n.setShowData(t.showData),t.sections.map(n.addSection)},`populateDb`),D={parse:h(async e=>{let t=await v(`pie`,e);f.debug(t),E(t,T)},`parse`)},O=h(e=>`
  .pieCircle{
    stroke: ${e.pieStrokeColor};
    stroke-width : ${e.pieStrokeWidth};
    opacity : ${e.pieOpacity};
  }
  .pieCircle.highlighted{
    scale: 1.05;
    opacity: 1;
  }
  .pieCircle.highlightedOnHover:hover{
    transition-duration: 250ms;
    scale: 1.05;
    opacity: 1;
  }
  .pieOuterCircle{
    stroke: ${e.pieOuterStrokeColor};
    stroke-width: ${e.pieOuterStrokeWidth};
    fill: none;
  }
  .pieTitleText {
    text-anchor: middle;
    font-size: ${e.pieTitleTextSize};
    fill: ${e.pieTitleTextColor};
    font-family: ${e.fontFamily};
  }
  .slice {
    font-family: ${e.fontFamily};
    fill: ${e.pieSectionTextColor};
    font-size:${e.pieSectionTextSize};
    // fill: white;
  }
  .legend text {
    fill: ${e.pieLegendTextColor};
    font-family: ${e.fontFamily};
    font-size: ${e.pieLegendTextSize};
  }
`,`getStyles`),k=h(e=>{let t=[...e.values()].reduce((e,t)=>e+t,0),n=[...e.entries()].map(([e,t])=>({label:e,value:t})).filter(e=>e.value/t*100>=1);return d().value(e=>e.value).sort(null)(n)},`createPieArcs`),A={parser:D,db:T,renderer:{draw:h((e,t,r,i)=>{var a;f.debug(`rendering pie chart
`+e);let o=i.db,s=n(),c=l(o.getConfig(),s.pie),d=g(t),p=d.append(`g`);p.attr(`transform`,`translate(225,225)`);let{themeVariables:h}=s,[v]=u(h.pieOuterStrokeWidth);v??=2;let b=c.legendPosition,x=c.textPosition,S=c.donutHole>0&&c.donutHole<=.9?c.donutHole:0,C=_().innerRadius(S*185).outerRadius(185),w=_().innerRadius(185*x).outerRadius(185*x),T=p.append(`g`);T.append(`circle`).attr(`cx`,0).attr(`cy`,0).attr(`r`,185+v/2).attr(`class`,`pieOuterCircle`);let E=o.getSections(),D=k(E),O=[h.pie1,h.pie2,h.pie3,h.pie4,h.pie5,h.pie6,h.pie7,h.pie8,h.pie9,h.pie10,h.pie11,h.pie12],A=0;E.forEach(e=>{A+=e});let j=D.filter(e=>(e.data.value/A*100).toFixed(0)!==`0`),M=y(O).domain([...E.keys()]);T.selectAll(`mySlices`).data(j).enter().append(`path`).attr(`d`,C).attr(`fill`,e=>M(e.data.label)).attr(`class`,e=>{let t=`pieCircle`;return c.highlightSlice===`hover`?t+=` highlightedOnHover`:c.highlightSlice===e.data.label&&(t+=` highlighted`),t}),T.selectAll(`mySlices`).data(j).enter().append(`text`).text(e=>(e.data.value/A*100).toFixed(0)+`%`).attr(`transform`,e=>`translate(`+w.centroid(e)+`)`).style(`text-anchor`,`middle`).attr(`class`,`slice`);let N=p.append(`text`).text(o.getDiagramTitle()).attr(`x`,0).attr(`y`,-200).attr(`class`,`pieTitleText`),P=[...E.entries()].map(([e,t])=>({label:e,value:t})),F=p.selectAll(`.legend`).data(P).enter().append(`g`).attr(`class`,`legend`);F.append(`rect`).attr(`width`,18).attr(`height`,18).style(`fill`,e=>M(e.label)).style(`stroke`,e=>M(e.label)),F.append(`text`).attr(`x`,22).attr(`y`,14).text(e=>o.getShowData()?`${e.label} [${e.value}]`:e.label);let I=Math.max(...F.selectAll(`text`).nodes().map(e=>(e==null?void 0:e.getBoundingClientRect().width)??0)),L=450,R=490,z=P.length*22;switch(b){case`center`:F.attr(`transform`,(e,t)=>{let n=22*P.length/2,r=-I/2-22,i=t*22-n;return`translate(`+r+`,`+i+`)`});break;case`top`:L+=z,F.attr(`transform`,(e,t)=>`translate(${-I/2-22}, ${t*22-185})`),T.attr(`transform`,()=>`translate(0, ${z+22})`);break;case`bottom`:L+=z,F.attr(`transform`,(e,t)=>{let n=-I/2-22,r=t*22- -207;return`translate(`+n+`,`+r+`)`});break;case`left`:R+=22+I,F.attr(`transform`,(e,t)=>{let n=22*P.length/2;return`translate(-207,`+(t*22-n)+`)`}),T.attr(`transform`,()=>`translate(${I+18+4}, 0)`);break;default:R+=22+I,F.attr(`transform`,(e,t)=>{let n=22*P.length/2;return`translate(216,`+(t*22-n)+`)`})}let B=((a=N.node())==null?void 0:a.getBoundingClientRect().width)??0,V=225-B/2,H=225+B/2,U=Math.min(0,V),W=Math.max(R,H)-U;d.attr(`viewBox`,`${U} 0 ${W} ${L}`),m(d,L,W,c.useMaxWidth)},`draw`)},styles:O};export{A as diagram};
import{r as e,t}from"./chunk-SHT3W25Y-CRizYjKc.js";import"./chunk-POPQ4Y6H-CzERnPHp.js";import{sn as n}from"./mermaid.core-xYGwzlU1.js";import"./chunk-F27PBJKO-DyFRk9u-.js";var r=t({defaultLayout:`swimlane`,styles:n(t=>`${e(t)}
  .swimlane.cluster rect {
    stroke: ${t.clusterBorder} !important;
  }
  [data-look="neo"].cluster rect {
    filter: none;
  }
`,`getStyles`)});export{r as diagram};
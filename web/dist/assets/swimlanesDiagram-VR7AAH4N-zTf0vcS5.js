import{r as e,t}from"./chunk-SHT3W25Y-CGucpANk.js";import"./chunk-POPQ4Y6H-UtakQ0pu.js";import{sn as n}from"./mermaid.core-CfFEHuW4.js";import"./chunk-F27PBJKO-YybTPLCK.js";var r=t({defaultLayout:`swimlane`,styles:n(t=>`${e(t)}
  .swimlane.cluster rect {
    stroke: ${t.clusterBorder} !important;
  }
  [data-look="neo"].cluster rect {
    filter: none;
  }
`,`getStyles`)});export{r as diagram};
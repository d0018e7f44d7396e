import{r as e,t}from"./chunk-SHT3W25Y-Dv94rWZm.js";import"./chunk-POPQ4Y6H-PraO-aIv.js";import{sn as n}from"./mermaid.core-x6bqep8S.js";import"./chunk-F27PBJKO-kWj70HRJ.js";var r=t({defaultLayout:`swimlane`,styles:n(t=>`${e(t)}
  .swimlane.cluster rect {
    stroke: ${t.clusterBorder} !important;
  }
  [data-look="neo"].cluster rect {
    filter: none;
  }
`,`getStyles`)});export{r as diagram};
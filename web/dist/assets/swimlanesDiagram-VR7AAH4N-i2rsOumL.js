import{r as e,t}from"./chunk-SHT3W25Y-DuC_Wviy.js";import"./chunk-POPQ4Y6H-DyfrCDMq.js";import{sn as n}from"./mermaid.core-DAgItMIN.js";import"./chunk-F27PBJKO-CS-010uI.js";var r=t({defaultLayout:`swimlane`,styles:n(t=>`${e(t)}
  .swimlane.cluster rect {
    stroke: ${t.clusterBorder} !important;
  }
  [data-look="neo"].cluster rect {
    filter: none;
  }
`,`getStyles`)});export{r as diagram};
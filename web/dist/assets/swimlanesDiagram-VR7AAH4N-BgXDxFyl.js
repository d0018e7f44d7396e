import{r as e,t}from"./chunk-SHT3W25Y-DJBbh4oF.js";import"./chunk-POPQ4Y6H-jQUazSJS.js";import{sn as n}from"./mermaid.core-vzfccHsa.js";import"./chunk-F27PBJKO-Bt6cB3Ar.js";var r=t({defaultLayout:`swimlane`,styles:n(t=>`${e(t)}
  .swimlane.cluster rect {
    stroke: ${t.clusterBorder} !important;
  }
  [data-look="neo"].cluster rect {
    filter: none;
  }
`,`getStyles`)});export{r as diagram};
import{r as e,t}from"./chunk-SHT3W25Y-DE-vP68E.js";import"./chunk-POPQ4Y6H-DZu3T8qs.js";import{sn as n}from"./mermaid.core-CMNklRPs.js";import"./chunk-F27PBJKO-BUEdEn2Q.js";var r=t({defaultLayout:`swimlane`,styles:n(t=>`${e(t)}
  .swimlane.cluster rect {
    stroke: ${t.clusterBorder} !important;
  }
  [data-look="neo"].cluster rect {
    filter: none;
  }
`,`getStyles`)});export{r as diagram};
"""The catalog: tables, their columns and partitions, as the Glue Data Catalog keeps them."""

variable "name_prefix" {
  description = "Environment prefix of every QuickSight ID."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the warehouse."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for QuickSight's network interfaces."
  type        = list(string)
}

variable "redshift_security_group_id" {
  description = "Security group of the warehouse."
  type        = string
}

variable "redshift_host" {
  description = "Warehouse endpoint host name."
  type        = string
}

variable "redshift_port" {
  description = "Warehouse SQL port."
  type        = number
}

variable "redshift_database" {
  description = "Warehouse database."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the BI user's secret (the environment's key)."
  type        = string
}

variable "secrets_role_name" {
  description = "The role QuickSight creates when Secrets Manager access is granted in its settings; it reads the warehouse secret."
  type        = string
  default     = "aws-quicksight-secretsmanager-role-v0"
}

variable "redshift_secret_arn" {
  description = "Secrets Manager secret of the read-only BI user (redshift module output bi_secret_arn), never the admin's."
  type        = string
}

variable "owner_principal_arns" {
  description = "QuickSight users or groups (their ARNs) owning the data source, datasets and dashboards."
  type        = list(string)
  default     = []
}

variable "viewer_principal_arns" {
  description = "QuickSight users or groups (their ARNs) who may open and query the four dashboards, read-only."
  type        = list(string)
  default     = []
}

variable "import_mode" {
  description = "DIRECT_QUERY (dashboards query Redshift) or SPICE (QuickSight keeps a copy)."
  type        = string
  default     = "DIRECT_QUERY"

  validation {
    condition     = contains(["DIRECT_QUERY", "SPICE"], var.import_mode)
    error_message = "import_mode is DIRECT_QUERY or SPICE."
  }
}

variable "datasets" {
  description = "One dataset per mart relation (schema mart, tables and views alike): key = dataset suffix, view = relation name, columns = its columns in order with QuickSight types (STRING, INTEGER, DECIMAL, DATETIME, BOOLEAN). tests/infra checks them against include/sql."
  type = map(object({
    view = string
    columns = list(object({
      name = string
      type = string
    }))
  }))
  default = {
    customer_cohorts = {
      view = "customer_cohorts"
      columns = [
        { name = "cohort_month", type = "DATETIME" },
        { name = "months_since", type = "INTEGER" },
        { name = "customers", type = "INTEGER" },
        { name = "retention", type = "DECIMAL" },
      ]
    }
    customer_rfm = {
      view = "customer_rfm"
      columns = [
        { name = "customer_unique_id", type = "STRING" },
        { name = "first_order_at", type = "DATETIME" },
        { name = "last_order_at", type = "DATETIME" },
        { name = "recency_days", type = "INTEGER" },
        { name = "frequency", type = "INTEGER" },
        { name = "lifetime_value", type = "DECIMAL" },
        { name = "r_score", type = "INTEGER" },
        { name = "m_score", type = "INTEGER" },
        { name = "segment", type = "STRING" },
        { name = "is_churned", type = "BOOLEAN" },
        { name = "is_repeat", type = "BOOLEAN" },
      ]
    }
    customer_segments = {
      view = "customer_segments"
      columns = [
        { name = "segment", type = "STRING" },
        { name = "customers", type = "INTEGER" },
        { name = "lifetime_value", type = "DECIMAL" },
        { name = "average_lifetime_value", type = "DECIMAL" },
        { name = "average_recency_days", type = "DECIMAL" },
      ]
    }
    customer_summary = {
      view = "customer_summary"
      columns = [
        { name = "customers", type = "INTEGER" },
        { name = "repeat_customers", type = "INTEGER" },
        { name = "churned_customers", type = "INTEGER" },
        { name = "repeat_rate", type = "DECIMAL" },
        { name = "churn_share", type = "DECIMAL" },
        { name = "average_lifetime_value", type = "DECIMAL" },
        { name = "median_lifetime_value", type = "DECIMAL" },
      ]
    }
    executive_monthly = {
      view = "executive_monthly"
      columns = [
        { name = "month_start", type = "DATETIME" },
        { name = "customer_state", type = "STRING" },
        { name = "orders", type = "INTEGER" },
        { name = "revenue", type = "DECIMAL" },
        { name = "freight", type = "DECIMAL" },
        { name = "average_order_value", type = "DECIMAL" },
        { name = "revenue_growth", type = "DECIMAL" },
      ]
    }
    executive_months = {
      view = "executive_months"
      columns = [
        { name = "month_start", type = "DATETIME" },
        { name = "orders", type = "INTEGER" },
        { name = "revenue", type = "DECIMAL" },
        { name = "freight", type = "DECIMAL" },
        { name = "average_order_value", type = "DECIMAL" },
        { name = "revenue_growth", type = "DECIMAL" },
        { name = "is_complete", type = "BOOLEAN" },
      ]
    }
    executive_states = {
      view = "executive_states"
      columns = [
        { name = "customer_state", type = "STRING" },
        { name = "orders", type = "INTEGER" },
        { name = "revenue", type = "DECIMAL" },
        { name = "revenue_share", type = "DECIMAL" },
        { name = "revenue_rank", type = "INTEGER" },
      ]
    }
    executive_summary = {
      view = "executive_summary"
      columns = [
        { name = "months", type = "INTEGER" },
        { name = "first_month", type = "DATETIME" },
        { name = "last_month", type = "DATETIME" },
        { name = "orders", type = "INTEGER" },
        { name = "revenue", type = "DECIMAL" },
        { name = "freight", type = "DECIMAL" },
        { name = "average_order_value", type = "DECIMAL" },
      ]
    }
    operational_checks_latest = {
      view = "operational_checks_latest"
      columns = [
        { name = "ingest_date", type = "DATETIME" },
        { name = "run_id", type = "STRING" },
        { name = "node_id", type = "STRING" },
        { name = "check_name", type = "STRING" },
        { name = "check_type", type = "STRING" },
        { name = "table_name", type = "STRING" },
        { name = "observed", type = "DECIMAL" },
        { name = "threshold", type = "DECIMAL" },
        { name = "status", type = "STRING" },
        { name = "severity", type = "STRING" },
        { name = "checked_at", type = "DATETIME" },
      ]
    }
    operational_daily = {
      view = "operational_daily"
      columns = [
        { name = "ingest_date", type = "DATETIME" },
        { name = "rows_in", type = "INTEGER" },
        { name = "rows_quarantined", type = "INTEGER" },
        { name = "rows_out", type = "INTEGER" },
        { name = "rows_loaded", type = "INTEGER" },
        { name = "entities", type = "INTEGER" },
        { name = "reconciled_entities", type = "INTEGER" },
        { name = "quarantine_rate", type = "DECIMAL" },
        { name = "checks", type = "INTEGER" },
        { name = "checks_passed", type = "INTEGER" },
        { name = "blocking_failures", type = "INTEGER" },
        { name = "warnings", type = "INTEGER" },
      ]
    }
    operational_loads = {
      view = "operational_loads"
      columns = [
        { name = "ingest_date", type = "DATETIME" },
        { name = "entity", type = "STRING" },
        { name = "run_id", type = "STRING" },
        { name = "rows_in", type = "INTEGER" },
        { name = "rows_quarantined", type = "INTEGER" },
        { name = "rows_out", type = "INTEGER" },
        { name = "rows_loaded", type = "INTEGER" },
        { name = "loaded_at", type = "DATETIME" },
        { name = "quarantine_rate", type = "DECIMAL" },
        { name = "is_reconciled", type = "BOOLEAN" },
      ]
    }
    operational_rejects = {
      view = "operational_rejects"
      columns = [
        { name = "ingest_date", type = "DATETIME" },
        { name = "entity", type = "STRING" },
        { name = "rule_name", type = "STRING" },
        { name = "rows_rejected", type = "INTEGER" },
      ]
    }
    operational_runs = {
      view = "operational_runs"
      columns = [
        { name = "run_id", type = "STRING" },
        { name = "ingest_date", type = "DATETIME" },
        { name = "first_load_at", type = "DATETIME" },
        { name = "entities", type = "INTEGER" },
        { name = "rows_in", type = "INTEGER" },
        { name = "rows_quarantined", type = "INTEGER" },
        { name = "rows_loaded", type = "INTEGER" },
        { name = "finished_at", type = "DATETIME" },
        { name = "duration_seconds", type = "INTEGER" },
        { name = "checks", type = "INTEGER" },
        { name = "blocking_failures", type = "INTEGER" },
        { name = "warnings", type = "INTEGER" },
      ]
    }
    operational_quality = {
      view = "operational_quality"
      columns = [
        { name = "ingest_date", type = "DATETIME" },
        { name = "run_id", type = "STRING" },
        { name = "node_id", type = "STRING" },
        { name = "check_name", type = "STRING" },
        { name = "check_type", type = "STRING" },
        { name = "table_name", type = "STRING" },
        { name = "observed", type = "DECIMAL" },
        { name = "threshold", type = "DECIMAL" },
        { name = "status", type = "STRING" },
        { name = "severity", type = "STRING" },
        { name = "checked_at", type = "DATETIME" },
      ]
    }
    product_categories = {
      view = "product_categories"
      columns = [
        { name = "category", type = "STRING" },
        { name = "orders", type = "INTEGER" },
        { name = "items", type = "INTEGER" },
        { name = "revenue", type = "DECIMAL" },
        { name = "average_review_score", type = "DECIMAL" },
        { name = "on_time_rate", type = "DECIMAL" },
        { name = "freight_share", type = "DECIMAL" },
        { name = "revenue_rank", type = "INTEGER" },
      ]
    }
    product_category_sales = {
      view = "product_category_sales"
      columns = [
        { name = "category", type = "STRING" },
        { name = "orders", type = "INTEGER" },
        { name = "items", type = "INTEGER" },
        { name = "revenue", type = "DECIMAL" },
        { name = "freight", type = "DECIMAL" },
        { name = "average_review_score", type = "DECIMAL" },
        { name = "on_time_rate", type = "DECIMAL" },
      ]
    }
    product_summary = {
      view = "product_summary"
      columns = [
        { name = "categories", type = "INTEGER" },
        { name = "items", type = "INTEGER" },
        { name = "revenue", type = "DECIMAL" },
        { name = "freight", type = "DECIMAL" },
        { name = "freight_share", type = "DECIMAL" },
        { name = "average_review_score", type = "DECIMAL" },
        { name = "on_time_rate", type = "DECIMAL" },
        { name = "top_category", type = "STRING" },
        { name = "top_category_share", type = "DECIMAL" },
      ]
    }
  }
}

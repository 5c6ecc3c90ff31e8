# Glue: the catalog database the crawlers fill, a security configuration (KMS for S3 output, logs
# and job bookmarks), one crawler per crawler name and one job per glue_job node. Jobs and
# crawlers come from var.jobs and var.crawlers, which the environments take from the pipelines
# module (yamldecode of include/pipelines/*.yaml): nothing is listed here by hand.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  raw_uri       = "s3://${var.raw_bucket_name}"
  processed_uri = "s3://${var.processed_bucket_name}"
  scripts_uri   = "s3://${var.scripts_bucket_name}/${var.scripts_prefix}"

  database_name = replace("${var.name_prefix}_raw", "-", "_")

  extra_py_files = join(",", [for f in var.extra_py_files : "${local.scripts_uri}/${f}"])

  job_names     = { for id, j in var.jobs : id => "${var.name_prefix}-${id}" }
  crawler_names = { for c, _ in var.crawlers : c => "${var.name_prefix}-${c}" }
}

resource "aws_glue_catalog_database" "raw" {
  name        = local.database_name
  description = "Tables of the raw CSV extracts, maintained by the ${var.name_prefix} crawlers."
}

# Account-wide setting (one per region): encrypt the catalog and connection passwords.
resource "aws_glue_data_catalog_encryption_settings" "this" {
  count = var.manage_catalog_encryption ? 1 : 0
  data_catalog_encryption_settings {
    connection_password_encryption {
      return_connection_password_encrypted = true
      aws_kms_key_id                       = var.kms_key_arn
    }
    encryption_at_rest {
      catalog_encryption_mode = "SSE-KMS"
      sse_aws_kms_key_id      = var.kms_key_arn
    }
  }
}

resource "aws_glue_security_configuration" "this" {
  name = var.name_prefix
  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = var.kms_key_arn
    }
    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = var.kms_key_arn
    }
    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = var.kms_key_arn
    }
  }
}

resource "aws_glue_crawler" "this" {
  for_each               = var.crawlers
  name                   = local.crawler_names[each.key]
  database_name          = aws_glue_catalog_database.raw.name
  role                   = aws_iam_role.crawler.arn
  security_configuration = aws_glue_security_configuration.this.name
  description            = "Catalogs raw/<entity>/ for ${join(", ", each.value.entities)} (pipelines: ${join(", ", each.value.pipelines)})."

  dynamic "s3_target" {
    for_each = each.value.entities
    content {
      path = "${local.raw_uri}/${s3_target.value}/"
    }
  }

  # Schema changes are applied and logged, never deleted: the local target's drift detection
  # has the same policy.
  schema_change_policy {
    update_behavior = "UPDATE_IN_DATABASE"
    delete_behavior = "LOG"
  }

  recrawl_policy {
    recrawl_behavior = "CRAWL_EVERYTHING"
  }

  configuration = jsonencode({
    Version = 1.0
    Grouping = {
      TableGroupingPolicy     = "CombineCompatibleSchemas"
      TableLevelConfiguration = 2
    }
    CrawlerOutput = {
      Partitions = { AddOrUpdateBehavior = "InheritFromTable" }
    }
  })
}

resource "aws_glue_job" "this" {
  for_each               = var.jobs
  name                   = local.job_names[each.key]
  description            = "Node ${each.key} (pipelines: ${join(", ", each.value.pipelines)}): ${each.value.script}."
  role_arn               = aws_iam_role.job.arn
  glue_version           = var.glue_version
  worker_type            = each.value.worker_type
  number_of_workers      = each.value.number_of_workers
  timeout                = each.value.timeout_minutes
  max_retries            = 0 # the orchestrator (Airflow or Step Functions) owns retries
  security_configuration = aws_glue_security_configuration.this.name
  execution_class        = "STANDARD"

  command {
    name            = "glueetl"
    script_location = "${local.scripts_uri}/${each.value.script}"
    python_version  = "3"
  }

  execution_property {
    max_concurrent_runs = var.max_concurrent_runs
  }

  default_arguments = merge(
    {
      "--job-language"                     = "python"
      "--job-bookmark-option"              = "job-bookmark-enable"
      "--extra-py-files"                   = local.extra_py_files
      "--raw_uri"                          = local.raw_uri
      "--processed_uri"                    = local.processed_uri
      "--TempDir"                          = "s3://${var.scripts_bucket_name}/glue-temp/"
      "--enable-metrics"                   = "true"
      "--enable-observability-metrics"     = "true"
      "--enable-continuous-cloudwatch-log" = "true"
      "--enable-spark-ui"                  = "true"
      "--spark-event-logs-path"            = "s3://${var.logs_bucket_name}/glue/spark-ui/"
    },
    { for k, v in each.value.arguments : "--${k}" => v },
  )
}

# Execution role of the environment: what MWAA itself needs (bucket, logs, metrics, its Celery
# queue) and what the DAG tasks call (Glue jobs and crawlers of the pipelines, the Redshift Data
# API on the warehouse, the alert topic, the backend's secrets). Every statement names its
# resources; the few AWS actions without resource-level permissions are marked.

data "aws_iam_policy_document" "execution_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["airflow.amazonaws.com", "airflow-env.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${local.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.execution_assume.json
}

locals {
  log_groups_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:airflow-${local.name}-*"
  secret_arns = concat(
    [for s in aws_secretsmanager_secret.variable : s.arn],
    [for s in aws_secretsmanager_secret.connection : s.arn],
    [aws_secretsmanager_secret.slack.arn],
  )
  provisioned = var.redshift.cluster_id != ""
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "PublishEnvironmentMetrics"
    actions   = ["airflow:PublishMetrics"]
    resources = [local.environment_arn]
  }

  statement {
    sid       = "ReadSourceBucket"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:GetEncryptionConfiguration"]
    resources = [aws_s3_bucket.this.arn]
  }

  statement {
    sid       = "ReadSourceObjects"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${aws_s3_bucket.this.arn}/*"]
  }

  statement {
    sid     = "CheckAccountPublicAccess"
    actions = ["s3:GetAccountPublicAccessBlock"]
    # no resource-level permissions: GetAccountPublicAccessBlock is account-wide; MWAA requires it.
    resources = ["*"]
  }

  statement {
    sid = "WriteEnvironmentLogs"
    actions = [
      "logs:CreateLogStream",
      "logs:CreateLogGroup",
      "logs:PutLogEvents",
      "logs:GetLogEvents",
      "logs:GetLogRecord",
      "logs:GetLogGroupFields",
      "logs:GetQueryResults",
    ]
    resources = [local.log_groups_arn, "${local.log_groups_arn}:*"]
  }

  statement {
    sid     = "ListLogGroups"
    actions = ["logs:DescribeLogGroups"]
    # no resource-level permissions: DescribeLogGroups lists across the account.
    resources = ["*"]
  }

  statement {
    sid     = "PublishAirflowMetrics"
    actions = ["cloudwatch:PutMetricData"]
    # no resource-level permissions: PutMetricData takes no resource; the namespace is pinned.
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["AmazonMWAA"]
    }
  }

  statement {
    sid = "UseCeleryQueue"
    actions = [
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
      "sqs:ReceiveMessage",
      "sqs:SendMessage",
    ]
    # The Celery queue lives in an account MWAA owns, hence no account id here (AWS's documented form).
    resources = ["arn:${local.partition}:sqs:${local.region}:*:airflow-celery-*"]
  }

  statement {
    sid       = "UseDataKey"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey", "kms:Encrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "sqs.${local.region}.amazonaws.com",
        "s3.${local.region}.amazonaws.com",
        "secretsmanager.${local.region}.amazonaws.com",
        "sns.${local.region}.amazonaws.com",
      ]
    }
  }

  # The warehouse's admin secret is encrypted with the warehouse key when it has its own.
  dynamic "statement" {
    for_each = var.warehouse_kms_key_arn == null ? [] : [var.warehouse_kms_key_arn]
    content {
      sid       = "DecryptWarehouseSecret"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }

  statement {
    sid       = "ReadBackendSecrets"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = concat(local.secret_arns, [var.redshift.etl_secret_arn])
  }

  dynamic "statement" {
    for_each = length(var.glue_job_arns) > 0 ? [1] : []
    content {
      sid       = "RunGlueJobs"
      actions   = ["glue:GetJob", "glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"]
      resources = var.glue_job_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.glue_crawler_arns) > 0 ? [1] : []
    content {
      sid       = "RunGlueCrawlers"
      actions   = ["glue:GetCrawler", "glue:StartCrawler"]
      resources = var.glue_crawler_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.glue_crawler_arns) > 0 ? [1] : []
    content {
      sid = "ReadGlueCrawlerMetrics"
      # The crawler operator's wait reads the metrics of the crawl that ended.
      actions = ["glue:GetCrawlerMetrics"]
      # no resource-level permissions: GetCrawlerMetrics takes a list of names and accepts only "*".
      resources = ["*"]
    }
  }

  statement {
    sid       = "RunWarehouseStatements"
    actions   = ["redshift-data:ExecuteStatement", "redshift-data:BatchExecuteStatement"]
    resources = [var.redshift.data_api_resource_arn]
  }

  statement {
    sid     = "FollowWarehouseStatements"
    actions = ["redshift-data:DescribeStatement", "redshift-data:GetStatementResult", "redshift-data:CancelStatement"]
    # no resource-level permissions: these Data API actions address statements by id only.
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = local.provisioned ? [1] : []
    content {
      sid = "ConnectToClusterWithIam"
      # As the ETL user only (the connection's db_user), to the warehouse database only.
      actions = ["redshift:GetClusterCredentials"]
      resources = [
        "arn:${local.partition}:redshift:${local.region}:${local.account_id}:dbuser:${var.redshift.cluster_id}/${var.redshift.etl_username}",
        "arn:${local.partition}:redshift:${local.region}:${local.account_id}:dbname:${var.redshift.cluster_id}/${var.redshift.database_name}",
      ]
    }
  }

  dynamic "statement" {
    for_each = local.provisioned ? [] : [1]
    content {
      sid       = "ConnectToWorkgroupWithIam"
      actions   = ["redshift-serverless:GetCredentials"]
      resources = [var.redshift.data_api_resource_arn]
    }
  }

  statement {
    sid       = "PublishAlerts"
    actions   = ["sns:Publish"]
    resources = [var.alert_topic_arn]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "mwaa-execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# Roles of the Glue jobs and crawlers: read raw, write processed, read scripts, write their logs.

data "aws_iam_policy_document" "glue_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "job" {
  name               = "${var.name_prefix}-glue-job"
  assume_role_policy = data.aws_iam_policy_document.glue_assume.json
}

resource "aws_iam_role" "crawler" {
  name               = "${var.name_prefix}-glue-crawler"
  assume_role_policy = data.aws_iam_policy_document.glue_assume.json
}

locals {
  catalog_arn  = "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog"
  database_arn = "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${local.database_name}"
  tables_arn   = "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${local.database_name}/*"
  # With a security configuration, Glue writes to /aws-glue/jobs/<configuration>-role/... and
  # /aws-glue/crawlers-role/...; both start with /aws-glue/.
  glue_logs_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws-glue/*"
}

data "aws_iam_policy_document" "job" {
  statement {
    sid       = "ListBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.raw_bucket_arn, var.processed_bucket_arn, var.scripts_bucket_arn, var.logs_bucket_arn]
  }

  statement {
    sid       = "ReadRawAndScripts"
    actions   = ["s3:GetObject"]
    resources = ["${var.raw_bucket_arn}/*", "${var.scripts_bucket_arn}/${var.scripts_prefix}/*"]
  }

  statement {
    sid     = "WriteProcessedAndTemp"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [
      "${var.processed_bucket_arn}/*",
      "${var.scripts_bucket_arn}/glue-temp/*",
      "${var.logs_bucket_arn}/glue/spark-ui/*",
    ]
  }

  statement {
    sid       = "UseDataKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
    resources = [local.glue_logs_arn, "${local.glue_logs_arn}:*"]
  }

  statement {
    sid     = "PublishMetrics"
    actions = ["cloudwatch:PutMetricData"]
    # no resource-level permissions: PutMetricData takes no resource; the namespace is pinned.
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["Glue"]
    }
  }
}

resource "aws_iam_role_policy" "job" {
  name   = "glue-job"
  role   = aws_iam_role.job.id
  policy = data.aws_iam_policy_document.job.json
}

data "aws_iam_policy_document" "crawler" {
  statement {
    sid       = "ListRaw"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.raw_bucket_arn]
  }

  statement {
    sid       = "ReadRaw"
    actions   = ["s3:GetObject"]
    resources = ["${var.raw_bucket_arn}/*"]
  }

  statement {
    sid       = "UseDataKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid = "MaintainRawTables"
    actions = [
      "glue:GetDatabase",
      "glue:GetTable",
      "glue:GetTables",
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:BatchGetPartition",
      "glue:CreatePartition",
      "glue:BatchCreatePartition",
      "glue:UpdatePartition",
      "glue:BatchUpdatePartition",
    ]
    resources = [local.catalog_arn, local.database_arn, local.tables_arn]
  }

  statement {
    sid     = "ReadSecurityConfiguration"
    actions = ["glue:GetSecurityConfiguration"]
    # no resource-level permissions: GetSecurityConfiguration supports no resource type.
    resources = ["*"]
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
    resources = [local.glue_logs_arn, "${local.glue_logs_arn}:*"]
  }
}

resource "aws_iam_role_policy" "crawler" {
  name   = "glue-crawler"
  role   = aws_iam_role.crawler.id
  policy = data.aws_iam_policy_document.crawler.json
}

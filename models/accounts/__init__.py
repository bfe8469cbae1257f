"""The accounts wing: users and their sign-in (users.py), whether an account still
stands (standing.py), the administrative audit trail (trail.py), and the one policy
table every endpoint is judged by (policy.py). May import core/, places/ and custody's
pure rules; never log/ or api/."""

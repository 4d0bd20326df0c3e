package dev.airlock.rbac;

import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;

/** Asks the API server what it would do: a SubjectAccessReview for a user's ServiceAccount. */
final class ClusterAccess {

  private ClusterAccess() {}

  static boolean allowed(KubernetesClient admin, String saNamespace, String userKey, Request r) {
    String user = "system:serviceaccount:" + saNamespace + ":user-" + userKey;
    String resource = r.resource();
    String sub = "";
    int slash = resource.indexOf('/');
    if (slash > 0) {
      sub = resource.substring(slash + 1);
      resource = resource.substring(0, slash);
    }
    SubjectAccessReview review = new SubjectAccessReviewBuilder().withNewSpec().withUser(user)
        .withGroups(List.of("system:serviceaccounts", "system:serviceaccounts:" + saNamespace,
            "system:authenticated"))
        .withNewResourceAttributes().withVerb(r.verb()).withGroup(r.group()).withResource(resource)
        .withSubresource(sub.isEmpty() ? null : sub).withNamespace(r.namespace()).withName(r.name())
        .endResourceAttributes().endSpec().build();
    SubjectAccessReview answer = admin.authorization().v1().subjectAccessReview().create(review);
    return Boolean.TRUE.equals(answer.getStatus().getAllowed());
  }
}

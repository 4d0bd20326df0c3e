package dev.airlock.testing.kube;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that needs a Kubernetes cluster ({@link KubeClusterExtension} picks the tier); tagged
 * {@code kube} so the tier runs alone ({@code -Dgroups=kube}) or not at all ({@code -DexcludedGroups=kube}).
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(KubeClusterExtension.class)
@Tag("kube")
public @interface KubeTest {}
